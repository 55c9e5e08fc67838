package codec_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestInteropVectorsAreUnchanged checks the repository's copy of the
// vectors made by the Python libraries against the team's shared copy, when
// a checkout has one beside it; a clone from the internet has none, and its
// own copy is what every test reads.
func TestInteropVectorsAreUnchanged(t *testing.T) {
	const ours, shared = "../../testdata/interop", "../../../shared/testdata/interop"
	files, err := filepath.Glob(filepath.Join(ours, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors in %s: %v", ours, err)
	}
	for _, f := range files {
		mine, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := os.ReadFile(filepath.Join(shared, filepath.Base(f)))
		if errors.Is(err, fs.ErrNotExist) {
			t.Logf("%s: no shared copy to compare with", filepath.Base(f))
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mine, theirs) {
			t.Errorf("%s differs from the shared copy: the vectors must stay as the Python libraries made them", f)
		}
	}
}
