package models

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/gnnlab/gognn/modelfile"
)

// TestSaveToMatchesSave: the stream forms write and read the bytes of the path forms, and the
// restored model computes the same logits either way.
func TestSaveToMatchesSave(t *testing.T) {
	a, feats, _, _, _, _ := communities(60, 3, 5)
	for _, arch := range saveArchs[:3] {
		src := buildOn(t, arch, 1, a, feats)
		path := filepath.Join(t.TempDir(), "m.gnn")
		if err := Save(path, arch, src.m.Learnables(), modelfile.FP16); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := SaveTo(&buf, arch, src.m.Learnables(), modelfile.FP16); err != nil {
			t.Fatal(err)
		}
		file, _ := os.ReadFile(path)
		if !bytes.Equal(file, buf.Bytes()) {
			t.Fatalf("%s: Save and SaveTo wrote different bytes", arch.Model)
		}
		a1, v1, err1 := Load(path)
		a2, v2, err2 := LoadFrom(&buf)
		if err1 != nil || err2 != nil || a1 != a2 || !reflect.DeepEqual(v1, v2) {
			t.Fatalf("%s: Load and LoadFrom disagree (%v, %v)", arch.Model, err1, err2)
		}
		d1, d2 := buildOn(t, a1, 2, a, feats), buildOn(t, a2, 3, a, feats)
		if Restore(d1.m.Learnables(), v1) != nil || Restore(d2.m.Learnables(), v2) != nil {
			t.Fatal("restore failed")
		}
		if !reflect.DeepEqual(logitsOf(t, d1), logitsOf(t, d2)) {
			t.Errorf("%s: models restored from the path and from the bytes compute different logits", arch.Model)
		}
	}
	if err := SaveTo(&bytes.Buffer{}, Architecture{Model: "mlp"}, nil, modelfile.FP32); err == nil {
		t.Error("SaveTo accepted an invalid architecture")
	}
}

// TestLoadTypedErrorsModels provokes each typed error through Load and LoadFrom.
func TestLoadTypedErrorsModels(t *testing.T) {
	a, feats, _, _, _, _ := communities(40, 3, 5)
	src := buildOn(t, saveArchs[0], 1, a, feats)
	var buf bytes.Buffer
	if err := SaveTo(&buf, saveArchs[0], src.m.Learnables(), modelfile.FP32); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	flipped := slices.Clone(good)
	flipped[len(flipped)-1] ^= 2
	bumped := slices.Clone(good)
	binary.LittleEndian.PutUint32(bumped[8:], modelfile.Version+1)
	magic := slices.Clone(good)
	magic[0] = 'g'
	for _, c := range []struct {
		name   string
		data   []byte
		target error
		as     func(error) bool
	}{
		{"truncated", good[:len(good)-10], modelfile.ErrTruncated, func(err error) bool { var e *modelfile.TruncatedError; return errors.As(err, &e) }},
		{"flipped byte", flipped, modelfile.ErrChecksum, func(err error) bool { var e *modelfile.ChecksumError; return errors.As(err, &e) }},
		{"version bumped", bumped, modelfile.ErrVersion, func(err error) bool {
			var e *modelfile.VersionError
			return errors.As(err, &e) && e.Found == modelfile.Version+1
		}},
		{"wrong magic", magic, modelfile.ErrMagic, func(err error) bool { var e *modelfile.MagicError; return errors.As(err, &e) }},
	} {
		path := filepath.Join(t.TempDir(), "bad.gnn")
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, perr := Load(path)
		_, _, serr := LoadFrom(bytes.NewReader(c.data))
		for _, err := range []error{perr, serr} {
			if !errors.Is(err, c.target) || !c.as(err) || errors.Is(err, modelfile.ErrFormat) == (c.target == modelfile.ErrVersion) {
				t.Errorf("%s: error %v, want %v", c.name, err, c.target)
			}
		}
	}
}
