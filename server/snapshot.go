package server

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gnnlab/gognn/internal/atomicfile"
	"github.com/gnnlab/gognn/search"
)

// Snapshot layout in the data directory: snapshots/<seq>/ holds the index (search.Save's three
// files), ids.json (the client id of every internal id, "" for deleted ones) and events.json
// (the feedback event ids remembered, oldest first, at most Config.DedupEvents); CURRENT names
// the newest complete one. A snapshot is written to snapshots/<seq>.tmp, synced and renamed,
// and only then does CURRENT (replaced atomically) point at it: a crash at any moment leaves
// CURRENT naming a complete snapshot.
const (
	currentFile = "CURRENT"
	idsFile     = "ids.json"
	eventsFile  = "events.json"
	snapDir     = "snapshots"
	keepSnaps   = 2
)

// Snapshot writes the index, the id table and the feedback event ids atomically and returns the
// snapshot's directory. Writes and feedback wait while it runs (feedback so that the event ids
// saved are exactly those of the events in the saved replay buffer); searches do not.
func (sv *Server) Snapshot() (string, error) {
	if sv.cfg.Dir == "" {
		return "", bad(409, "the server has no data directory (-dir)")
	}
	start := time.Now()
	sv.wmu.Lock()
	defer sv.wmu.Unlock()
	seq := sv.snapSeq.Add(1)
	name := fmt.Sprintf("%012d", seq)
	root := filepath.Join(sv.cfg.Dir, snapDir)
	final := filepath.Join(root, name)
	tmp := final + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return "", err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	sv.fbMu.Lock()
	err := sv.ix.Save(tmp)
	events := sv.dedup.ordered()
	sv.fbMu.Unlock()
	if err != nil {
		return "", err
	}
	evRaw, err := json.Marshal(events)
	if err != nil {
		return "", err
	}
	if err := atomicfile.WriteBytes(filepath.Join(tmp, eventsFile), evRaw, 0o644); err != nil {
		return "", err
	}
	sv.mu.RLock()
	ids, err := json.Marshal(sv.ext)
	sv.mu.RUnlock()
	if err != nil {
		return "", err
	}
	if err := atomicfile.WriteBytes(filepath.Join(tmp, idsFile), ids, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", err
	}
	if err := syncDir(root); err != nil {
		return "", err
	}
	if err := atomicfile.WriteBytes(filepath.Join(sv.cfg.Dir, currentFile), []byte(name+"\n"), 0o644); err != nil {
		return "", err
	}
	sv.prune(root, seq)
	sv.met.snapshots.Add(1)
	sv.log.Info("snapshot", "dir", final, "vectors", sv.ix.Stats().Live, "ms", time.Since(start).Milliseconds())
	return final, nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// prune removes snapshots older than the newest keepSnaps and unfinished ones.
func (sv *Server) prune(root string, seq int64) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range ents {
		tmp := strings.HasSuffix(e.Name(), ".tmp")
		n, err := strconv.ParseInt(strings.TrimSuffix(e.Name(), ".tmp"), 10, 64)
		if err == nil && (n <= seq-keepSnaps || tmp && n < seq) {
			os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
}

// loadSnapshot loads the snapshot CURRENT names, if any.
func (sv *Server) loadSnapshot() (bool, error) {
	cur, err := os.ReadFile(filepath.Join(sv.cfg.Dir, currentFile))
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("server: %w", err)
	}
	name := strings.TrimSpace(string(cur))
	seq, err := strconv.ParseInt(name, 10, 64)
	if err != nil {
		return false, fmt.Errorf("server: %s names %q, not a snapshot", filepath.Join(sv.cfg.Dir, currentFile), name)
	}
	dir := filepath.Join(sv.cfg.Dir, snapDir, name)
	ix, err := search.Load(dir)
	if err != nil {
		return false, fmt.Errorf("server: loading snapshot %s: %w", dir, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, idsFile))
	if err != nil {
		return false, fmt.Errorf("server: %w", err)
	}
	var ext []string
	if err := json.Unmarshal(raw, &ext); err != nil {
		return false, fmt.Errorf("server: %s: %w", filepath.Join(dir, idsFile), err)
	}
	if len(ext) > ix.Len() {
		return false, fmt.Errorf("server: %s lists %d ids for an index of %d", filepath.Join(dir, idsFile), len(ext), ix.Len())
	}
	for in, id := range ext {
		if id == "" {
			continue
		}
		if ix.Deleted(in) {
			return false, fmt.Errorf("server: %s: id %q names deleted vector %d", filepath.Join(dir, idsFile), id, in)
		}
		if _, dup := sv.ids[id]; dup {
			return false, fmt.Errorf("server: %s: id %q listed twice", filepath.Join(dir, idsFile), id)
		}
		sv.ids[id] = in
	}
	// Snapshots written before event ids were saved have no events.json: nothing to remember.
	evRaw, err := os.ReadFile(filepath.Join(dir, eventsFile))
	if err != nil && !os.IsNotExist(err) {
		return false, fmt.Errorf("server: %w", err)
	}
	if err == nil {
		var events []string
		if err := json.Unmarshal(evRaw, &events); err != nil {
			return false, fmt.Errorf("server: %s: %w", filepath.Join(dir, eventsFile), err)
		}
		for _, id := range events[max(0, len(events)-sv.dedup.cap):] { // the newest, as many as fit
			if id != "" {
				sv.dedup.add(id)
			}
		}
	}
	sv.ix, sv.ext = ix, slices.Clip(ext)
	sv.snapSeq.Store(seq)
	sv.log.Info("loaded snapshot", "dir", dir, "vectors", ix.Live())
	return true, nil
}
