// Package shard spreads one search index over N shard servers behind a router, talking NATS
// request-reply (github.com/nats-io/nats.go). Ids hash to shards (Of: murmur3 to VirtualShards
// virtual shards, then mod N, as Weaviate does); each shard is a server.Server with its own HNSW
// and GNN embeddings over its vectors. The router sends an add or delete to the id's shard, fans
// a query out to every shard, merges the top k and tags each hit with its shard and that shard's
// model version; a shard that does not answer within the timeout is named in the response's
// Missing list, and the results of the others come back (partial results, never a hang).
//
// Training is central: feedback goes to a trainer, which holds every vector (the router mirrors
// adds and deletes to it) so that it sees whole neighbourhoods, learns, and publishes its weights
// on a subject every shard listens to; each shard swaps them in (search.Index.SetWeights) and
// re-embeds its own vectors; Router.Train returns once every shard serves the new version. Adds
// are idempotent by id and feedback by event id, so a client may retry either after a timeout.
package shard

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/nats-io/nats.go"

	"github.com/gnnlab/gognn/server"
)

// reply is the envelope of every answer: Error set (with an HTTP-like Code) or Body.
type reply struct {
	Code  int             `json:"code,omitempty"`
	Error string          `json:"error,omitempty"`
	Body  json.RawMessage `json:"body,omitempty"`
}

// Node serves a server.Server on NATS subjects under prefix: a shard (prefix.shard.<i>) or the
// trainer (prefix.trainer).
type Node struct {
	sv   *server.Server
	nc   *nats.Conn
	subs []*nats.Subscription
	log  *slog.Logger
}

// Subjects of a cluster with the given prefix.
func shardSubject(prefix string, i int, op string) string {
	return fmt.Sprintf("%s.shard.%d.%s", prefix, i, op)
}
func trainerSubject(prefix, op string) string { return prefix + ".trainer." + op }
func weightsSubject(prefix string) string     { return prefix + ".weights" }

// ServeShard serves sv as shard i of the cluster: add, delete, search and stats requests, and
// the weights the trainer publishes; a version request answers the model version whose
// embeddings it serves.
func ServeShard(nc *nats.Conn, prefix string, i int, sv *server.Server, log *slog.Logger) (*Node, error) {
	n := &Node{sv: sv, nc: nc, log: orDiscard(log)}
	subj := func(op string) string { return shardSubject(prefix, i, op) }
	if err := n.handleOps(subj); err != nil {
		n.Close()
		return nil, err
	}
	// applied is the model version whose embeddings this shard serves: SetWeights returns once
	// they are recomputed, so a router waiting for it knows a search sees the new model.
	current := sv.Index().Weights()
	var applied atomic.Int64
	applied.Store(current.Version)
	sub, err := nc.Subscribe(subj("version"), func(m *nats.Msg) {
		n.respond(m, func([]byte) (any, error) { return versionReply{applied.Load()}, nil })
	})
	if err != nil {
		n.Close()
		return nil, err
	}
	n.subs = append(n.subs, sub)
	asm := newWeightsAssembler(current)
	sub, err = nc.Subscribe(weightsSubject(prefix), func(m *nats.Msg) {
		w, done, err := asm.add(m.Data)
		if err != nil {
			n.log.Error("weights", "err", err)
			return
		}
		if done {
			if err := sv.Index().SetWeights(w); err != nil {
				n.log.Error("weights", "err", err)
				return
			}
			applied.Store(w.Version)
		}
	})
	if err != nil {
		n.Close()
		return nil, err
	}
	n.subs = append(n.subs, sub)
	return n, nc.Flush()
}

// versionReply is a shard's answer to a version request.
type versionReply struct {
	Version int64 `json:"model_version"`
}

// ServeTrainer serves sv as the cluster's trainer: it mirrors every vector, takes the feedback,
// and after each training run publishes its weights to the shards.
func ServeTrainer(nc *nats.Conn, prefix string, sv *server.Server, log *slog.Logger) (*Node, error) {
	n := &Node{sv: sv, nc: nc, log: orDiscard(log)}
	subj := func(op string) string { return trainerSubject(prefix, op) }
	if err := n.handleOps(subj); err != nil {
		n.Close()
		return nil, err
	}
	add := func(op string, h func([]byte) (any, error)) error {
		sub, err := nc.Subscribe(subj(op), func(m *nats.Msg) { n.respond(m, h) })
		n.subs = append(n.subs, sub)
		return err
	}
	err := errors.Join(
		add("feedback", func(b []byte) (any, error) {
			var r server.FeedbackRequest
			if err := json.Unmarshal(b, &r); err != nil {
				return nil, fmt.Errorf("feedback: %w", err)
			}
			dup, err := sv.Feedback(r)
			return map[string]bool{"duplicate": dup}, err
		}),
		add("train", func([]byte) (any, error) {
			st, err := sv.Index().Train()
			if err != nil {
				return nil, err
			}
			w := sv.Index().Weights()
			for _, msg := range weightChunks(w, int(nc.MaxPayload())/2) {
				if err := nc.Publish(weightsSubject(prefix), msg); err != nil {
					return nil, err
				}
			}
			return map[string]any{"steps": st.Steps, "model_version": w.Version}, nc.Flush()
		}),
	)
	if err != nil {
		n.Close()
		return nil, err
	}
	return n, nc.Flush()
}

// handleOps subscribes the operations every node serves.
func (n *Node) handleOps(subj func(string) string) error {
	sv := n.sv
	ops := map[string]func([]byte) (any, error){
		"add": func(b []byte) (any, error) {
			var items []server.Item
			if err := json.Unmarshal(b, &items); err != nil {
				return nil, fmt.Errorf("add: %w", err)
			}
			return sv.Add(items)
		},
		"delete": func(b []byte) (any, error) {
			return nil, sv.Delete(string(b))
		},
		"search": func(b []byte) (any, error) {
			var r server.SearchRequest
			if err := json.Unmarshal(b, &r); err != nil {
				return nil, fmt.Errorf("search: %w", err)
			}
			return sv.Search(r)
		},
		"stats": func([]byte) (any, error) { return sv.Stats(), nil },
	}
	for op, h := range ops {
		sub, err := n.nc.Subscribe(subj(op), func(m *nats.Msg) { n.respond(m, h) })
		if err != nil {
			return err
		}
		n.subs = append(n.subs, sub)
	}
	return nil
}

// respond runs h on the request and replies with the envelope.
func (n *Node) respond(m *nats.Msg, h func([]byte) (any, error)) {
	v, err := h(m.Data)
	var r reply
	if err != nil {
		r.Code, r.Error = 500, err.Error()
		var he interface{ StatusCode() int }
		if errors.As(err, &he) {
			r.Code = he.StatusCode()
		}
	} else if v != nil {
		r.Body, _ = json.Marshal(v)
	}
	raw, _ := json.Marshal(r)
	if err := m.Respond(raw); err != nil {
		n.log.Error("reply", "subject", m.Subject, "err", err)
	}
}

// Close unsubscribes: the node stops answering (the connection stays the caller's).
func (n *Node) Close() {
	for _, s := range n.subs {
		s.Unsubscribe()
	}
	n.subs = nil
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
