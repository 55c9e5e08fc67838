// Command release packs the library modules of the cloakroom repository
// into a directory laid out like a module proxy, so that a release can be
// fetched with GOPROXY=file:///that/dir exactly as the go command would
// fetch it from proxy.golang.org once tagged, before it is tagged.
//
// Usage:
//
//	release [-root dir] version outdir
//	release compat [-root dir] [-repo dir] version
//
// The first form packs; the second compares APIs (see below).
//
// Every directory under root that holds a go.mod file is a module, except
// those in hidden directories (.git, .services) and testdata. The modules
// under examples, bench and tools are not published, and are not packed.
// For each library module release writes
//
//	outdir/<escaped module path>/@v/list
//	outdir/<escaped module path>/@v/<version>.info
//	outdir/<escaped module path>/@v/<version>.mod
//	outdir/<escaped module path>/@v/<version>.zip
//
// The zip is made by golang.org/x/mod/zip.CreateFromDir, which leaves out
// nested modules and VCS directories as the proxy does. It packs the files
// of the directory as they are, untracked and ignored ones included, where
// the proxy packs a tagged commit: pack a clean tree
// (scripts/release-check.sh packs a copy of the files git would commit).
//
// Before packing anything, release checks every go.mod under root, the
// unpublished modules' too: a module of the repository that requires
// another at a version other than the one being packed is an error, since
// the replace directives that point at the sibling directories are ignored
// once the module is a dependency.
//
// release compat compares the API of each library module under root with
// that of its previous release: the newest tag of the module lower than
// version in the git repository at repo (root by default), "v0.3.0" for the
// root module and "adapters/gin/v0.3.0" for the module in adapters/gin. It
// prints every change, compatible or not, "first release of ..." for a
// module without such a tag, and fails when a module has incompatible
// changes that version does not allow: a v0 release needs a new minor or
// major version for them, a later one a new major version. The comparison
// is golang.org/x/exp/apidiff's, over the module's packages less its
// commands and internal packages.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/zip"
)

// unpublished are the top-level directories whose modules are not packed.
var unpublished = []string{"examples", "bench", "tools"}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "compat" {
		compatMain(os.Args[2:])
		return
	}
	root := flag.String("root", ".", "root `dir`ectory of the repository")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: release [-root dir] version outdir\n"+
			"       release compat [-root dir] [-repo dir] version\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	done, err := pack(*root, flag.Arg(0), flag.Arg(1))
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
	for _, m := range done {
		fmt.Printf("packed %s@%s (tag %s)\n", m.mod.Path, m.mod.Version, m.tag)
	}
}

// compatMain runs release compat with args, the arguments after "compat".
func compatMain(args []string) {
	flags := flag.NewFlagSet("release compat", flag.ExitOnError)
	root := flags.String("root", ".", "root `dir`ectory of the release's files")
	repo := flags.String("repo", "", "`dir`ectory of the git repository whose tags are compared against (default: the root)")
	flags.Usage = func() {
		fmt.Fprintf(flags.Output(), "usage: release compat [-root dir] [-repo dir] version\n")
		flags.PrintDefaults()
	}
	_ = flags.Parse(args) // ExitOnError
	if flags.NArg() != 1 {
		flags.Usage()
		os.Exit(2)
	}
	if *repo == "" {
		*repo = *root
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := compat(ctx, os.Stdout, *root, *repo, flags.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "release compat:", err)
		stop()
		os.Exit(1)
	}
}

// repoModule is a module found under the root.
type repoModule struct {
	dir   string // relative to the root, slash-separated; "" for the root
	gomod []byte
	file  *modfile.File
}

// packed is a module written to outdir, with the tag that will publish it.
type packed struct {
	mod module.Version
	tag string
}

// pack checks and packs the library modules under root at version into
// outdir, and returns what it packed.
func pack(root, version, outdir string) ([]packed, error) {
	if semver.Canonical(version) != version {
		return nil, fmt.Errorf("version %q is not a canonical semantic version such as v1.2.3", version)
	}
	if inside(root, outdir) {
		return nil, fmt.Errorf("outdir %s is inside root %s: it would be packed too", outdir, root)
	}
	mods, err := findModules(root)
	if err != nil {
		return nil, err
	}
	if err := checkRequires(mods, version); err != nil {
		return nil, err
	}
	var done []packed
	for _, m := range mods {
		if !published(m.dir) {
			continue
		}
		mv := module.Version{Path: m.file.Module.Mod.Path, Version: version}
		if err := write(outdir, mv, filepath.Join(root, filepath.FromSlash(m.dir)), m.gomod); err != nil {
			return nil, err
		}
		done = append(done, packed{mod: mv, tag: path.Join(m.dir, version)})
	}
	if len(done) == 0 {
		return nil, fmt.Errorf("no library module under %s", root)
	}
	return done, nil
}

// findModules returns the modules under root, the root's first. It checks
// that each library module lives where the go command will look for it in
// the repository: in the directory named by its path below the root
// module's.
func findModules(root string) ([]repoModule, error) {
	var mods []repoModule
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && p != root && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || name != "go.mod" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := modfile.Parse(p, data, nil)
		if err != nil {
			return err
		}
		if f.Module == nil {
			return fmt.Errorf("%s: no module directive", p)
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		if rel == "." {
			rel = ""
		}
		mods = append(mods, repoModule{dir: filepath.ToSlash(rel), gomod: data, file: f})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(mods, func(a, b repoModule) int { return strings.Compare(a.dir, b.dir) })
	if len(mods) == 0 || mods[0].dir != "" {
		return nil, fmt.Errorf("%s: no go.mod at the root of the repository", root)
	}
	base := mods[0].file.Module.Mod.Path
	for _, m := range mods[1:] {
		if !published(m.dir) {
			continue
		}
		if got, want := m.file.Module.Mod.Path, base+"/"+m.dir; got != want {
			return nil, fmt.Errorf("%s/go.mod: module %s, want %s to match its directory", m.dir, got, want)
		}
	}
	return mods, nil
}

// checkRequires reports every requirement of a module of the repository on
// another at a version other than version.
func checkRequires(mods []repoModule, version string) error {
	siblings := map[string]bool{}
	for _, m := range mods {
		siblings[m.file.Module.Mod.Path] = true
	}
	var errs []error
	for _, m := range mods {
		for _, r := range m.file.Require {
			if siblings[r.Mod.Path] && r.Mod.Version != version {
				errs = append(errs, fmt.Errorf("  %s: requires %s %s, want %s",
					path.Join(m.dir, "go.mod"), r.Mod.Path, r.Mod.Version, version))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("the modules must require each other at %s, the version being packed "+
			"(their replace directives are ignored once they are dependencies):\n%w", version, errors.Join(errs...))
	}
	return nil
}

// write adds module m, whose files are in dir, to the proxy in outdir.
func write(outdir string, m module.Version, dir string, gomod []byte) error {
	if err := module.Check(m.Path, m.Version); err != nil {
		return err
	}
	escPath, err := module.EscapePath(m.Path)
	if err != nil {
		return err
	}
	escVersion, err := module.EscapeVersion(m.Version)
	if err != nil {
		return err
	}
	at := filepath.Join(outdir, filepath.FromSlash(escPath), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		return err
	}
	base := filepath.Join(at, escVersion)

	z, err := os.Create(base + ".zip")
	if err != nil {
		return err
	}
	if err := zip.CreateFromDir(z, m, dir); err != nil {
		z.Close()
		return err
	}
	if err := z.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(base+".mod", gomod, 0o644); err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{m.Version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".info", info, 0o644); err != nil {
		return err
	}
	return addToList(filepath.Join(at, "list"), m.Version)
}

// addToList adds version to the list file of a module, which may already
// hold other versions.
func addToList(file, version string) error {
	data, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	versions := strings.Fields(string(data))
	if !slices.Contains(versions, version) {
		versions = append(versions, version)
	}
	semver.Sort(versions)
	return os.WriteFile(file, []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}

// published reports whether the module in dir (relative to the root) is
// part of the library.
func published(dir string) bool {
	top, _, _ := strings.Cut(dir, "/")
	return !slices.Contains(unpublished, top)
}

// inside reports whether path p is root or below it.
func inside(root, p string) bool {
	absRoot, err1 := filepath.Abs(root)
	absP, err2 := filepath.Abs(p)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(absRoot, absP)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
