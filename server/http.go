package server

import (
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/gnnlab/gognn/search"
)

// BinaryVectors is the Content-Type of the binary bulk encoding of POST /v1/vectors, all
// little-endian: the magic "GGV1", count uint32, dim uint32, then count records of an id length
// uint16, the id's bytes and dim float32 values.
const BinaryVectors = "application/x-gognn-vectors"

// Handler returns the HTTP handler of the routes:
//
//	POST   /v1/vectors       {"vectors":[{"id":"a","vector":[...]}]} or BinaryVectors -> {"added":n,"existing":m}
//	GET    /v1/vectors/{id}  -> {"id":"a","vector":[...]} (unit norm, as stored)
//	PUT    /v1/vectors/{id}  {"vector":[...]} -> {"created":bool}
//	DELETE /v1/vectors/{id}  -> {"deleted":"a"}
//	PUT    /v1/vectors       as POST /v1/vectors -> {"updated":n,"created":m} (batch PUT)
//	POST   /v1/vectors/delete {"ids":["a","b"]} -> {"deleted":n} (batch DELETE)
//	POST   /v1/search        SearchRequest -> SearchResponse
//	POST   /v1/feedback      FeedbackRequest -> {"duplicate":bool}
//	POST   /v1/train         -> search.TrainStats and the new model_version
//	GET    /v1/stats         -> Stats
//	POST   /v1/snapshot      -> {"dir":"...","ms":n}
//	GET    /healthz          -> ok (no token needed)
//	GET    /metrics          Prometheus text format
func (sv *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h func(*http.Request) (any, int, error)) {
		mux.Handle(pattern, sv.wrap(pattern, h))
	}
	route("POST /v1/vectors", sv.handleAdd)
	route("PUT /v1/vectors", func(r *http.Request) (any, int, error) {
		items, err := sv.decodeItems(r)
		if err != nil {
			return nil, 0, err
		}
		res, err := sv.PutBatch(items)
		return res, 200, err
	})
	route("POST /v1/vectors/delete", func(r *http.Request) (any, int, error) {
		var body struct {
			IDs []string `json:"ids"`
		}
		if err := decode(r, &body); err != nil {
			return nil, 0, err
		}
		err := sv.DeleteBatch(body.IDs)
		return map[string]int{"deleted": len(body.IDs)}, 200, err
	})
	route("GET /v1/vectors/{id}", func(r *http.Request) (any, int, error) {
		v, err := sv.Get(r.PathValue("id"))
		return Item{ID: r.PathValue("id"), Vector: v}, 200, err
	})
	route("PUT /v1/vectors/{id}", func(r *http.Request) (any, int, error) {
		var body struct {
			Vector []float32 `json:"vector"`
		}
		if err := decode(r, &body); err != nil {
			return nil, 0, err
		}
		created, err := sv.Put(r.PathValue("id"), body.Vector)
		code := 200
		if created {
			code = 201
		}
		return map[string]bool{"created": created}, code, err
	})
	route("DELETE /v1/vectors/{id}", func(r *http.Request) (any, int, error) {
		return map[string]string{"deleted": r.PathValue("id")}, 200, sv.Delete(r.PathValue("id"))
	})
	route("POST /v1/search", func(r *http.Request) (any, int, error) {
		var req SearchRequest
		if err := decode(r, &req); err != nil {
			return nil, 0, err
		}
		res, err := sv.Search(req)
		return res, 200, err
	})
	route("POST /v1/feedback", func(r *http.Request) (any, int, error) {
		var req FeedbackRequest
		if err := decode(r, &req); err != nil {
			return nil, 0, err
		}
		dup, err := sv.Feedback(req)
		return map[string]bool{"duplicate": dup}, 202, err
	})
	route("POST /v1/train", func(r *http.Request) (any, int, error) {
		st, err := sv.train()
		if math.IsNaN(st.Loss) {
			st.Loss = 0 // JSON has no NaN; Steps = 0 says there was nothing to learn
		}
		return struct {
			search.TrainStats
			ModelVersion int64 `json:"model_version"`
		}{st, sv.ix.ModelVersion()}, 200, err
	})
	route("GET /v1/stats", func(r *http.Request) (any, int, error) { return sv.Stats(), 200, nil })
	route("POST /v1/snapshot", func(r *http.Request) (any, int, error) {
		start := time.Now()
		dir, err := sv.Snapshot()
		return map[string]any{"dir": dir, "ms": time.Since(start).Milliseconds()}, 200, err
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /metrics", sv.auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		sv.met.write(w, sv.Stats())
	})))
	return mux
}

// auth checks the bearer token when one is configured.
func (sv *Server) auth(h http.Handler) http.Handler {
	if sv.cfg.Token == "" {
		return h
	}
	want := []byte("Bearer " + sv.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeJSON(w, 401, map[string]string{"error": "missing or wrong bearer token: send Authorization: Bearer <token>"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// wrap adds the token check, the in-flight limit, the body limit, JSON output, error mapping,
// metrics and logging to a handler.
func (sv *Server) wrap(route string, h func(*http.Request) (any, int, error)) http.Handler {
	return sv.auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		select {
		case sv.inFlight <- struct{}{}:
			defer func() { <-sv.inFlight }()
		default:
			sv.met.rejected.Add(1)
			writeJSON(w, 503, map[string]string{"error": fmt.Sprintf("server busy: %d requests in flight; retry later", sv.cfg.MaxInFlight)})
			sv.met.observe(route, 503, time.Since(start))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, sv.cfg.MaxBody)
		v, code, err := h(r)
		if err != nil {
			code = 500
			var he *httpError
			var mb *http.MaxBytesError
			switch {
			case errors.As(err, &he):
				code = he.code
			case errors.As(err, &mb):
				code, err = 413, fmt.Errorf("request body larger than %d bytes; split it", sv.cfg.MaxBody)
			}
			if code >= 500 {
				sv.log.Error("request failed", "route", route, "err", err)
			}
			v = map[string]string{"error": err.Error()}
		}
		writeJSON(w, code, v)
		sv.met.observe(route, code, time.Since(start))
	}))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body into v, strictly: unknown fields and trailing data are errors.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return err
		}
		return bad(400, "malformed JSON body: %v", err)
	}
	if dec.More() {
		return bad(400, "malformed JSON body: data after the object")
	}
	return nil
}

func (sv *Server) handleAdd(r *http.Request) (any, int, error) {
	items, err := sv.decodeItems(r)
	if err != nil {
		return nil, 0, err
	}
	res, err := sv.Add(items)
	return res, 200, err
}

// decodeItems reads the vectors of a batch add or put: BinaryVectors, or JSON
// {"vectors":[{"id":"a","vector":[...]}]}.
func (sv *Server) decodeItems(r *http.Request) ([]Item, error) {
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, BinaryVectors) {
		return sv.decodeBinary(r.Body)
	}
	var body struct {
		Vectors []Item `json:"vectors"`
	}
	if err := decode(r, &body); err != nil {
		return nil, err
	}
	return body.Vectors, nil
}

// decodeBinary reads the BinaryVectors encoding.
func (sv *Server) decodeBinary(body io.Reader) ([]Item, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(body, hdr[:]); err != nil {
		return nil, binErr(err, "header")
	}
	if string(hdr[:4]) != "GGV1" {
		return nil, bad(400, "binary vectors: bad magic %q, want \"GGV1\"", hdr[:4])
	}
	n, dim := binary.LittleEndian.Uint32(hdr[4:]), binary.LittleEndian.Uint32(hdr[8:])
	if int(dim) != sv.ix.Dim() {
		return nil, bad(400, "binary vectors: dimension %d, the index's is %d", dim, sv.ix.Dim())
	}
	if n == 0 || n > uint32(sv.cfg.MaxBatch) {
		return nil, bad(413, "binary vectors: count %d: want 1..%d; split the batch", n, sv.cfg.MaxBatch)
	}
	items := make([]Item, 0, min(int(n), 1024))
	buf := make([]byte, 4*dim)
	for i := 0; i < int(n); i++ {
		var l [2]byte
		if _, err := io.ReadFull(body, l[:]); err != nil {
			return nil, binErr(err, fmt.Sprintf("record %d", i))
		}
		id := make([]byte, binary.LittleEndian.Uint16(l[:]))
		if _, err := io.ReadFull(body, id); err != nil {
			return nil, binErr(err, fmt.Sprintf("record %d id", i))
		}
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, binErr(err, fmt.Sprintf("record %d vector", i))
		}
		v := make([]float32, dim)
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
		}
		items = append(items, Item{ID: string(id), Vector: v})
	}
	if extra, _ := io.ReadFull(body, make([]byte, 1)); extra != 0 {
		return nil, bad(400, "binary vectors: data after %d records", n)
	}
	return items, nil
}

func binErr(err error, what string) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return err
	}
	return bad(400, "binary vectors: truncated %s (%v)", what, err)
}

// EncodeBinary appends items in the BinaryVectors encoding to b.
func EncodeBinary(b []byte, items []Item) []byte {
	dim := 0
	if len(items) > 0 {
		dim = len(items[0].Vector)
	}
	b = append(b, "GGV1"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(items)))
	b = binary.LittleEndian.AppendUint32(b, uint32(dim))
	for _, it := range items {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(it.ID)))
		b = append(b, it.ID...)
		for _, x := range it.Vector {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
	}
	return b
}
