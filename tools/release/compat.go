package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/exp/apidiff"
	"golang.org/x/mod/semver"
	"golang.org/x/tools/go/packages"
)

// compat compares the API of every library module under root with the
// same module at its previous release, the newest tag of that module in
// the git repository at repo that is lower than version: "v0.3.0" for the
// root module, "adapters/gin/v0.3.0" for the module in adapters/gin, as
// the go command names the tags of nested modules. It writes each
// module's changes to w, and fails when a module has incompatible
// changes that version's semantic version does not allow: in v0 a minor
// or major bump allows them, from v1 on only a major bump. A module
// without an earlier tag is a first release, with nothing to compare.
//
// Prerelease tags are not compared against: a release promises its API
// relative to the previous release, not to a release candidate.
func compat(ctx context.Context, w io.Writer, root, repo, version string) error {
	if semver.Canonical(version) != version {
		return fmt.Errorf("version %q is not a canonical semantic version such as v1.2.3", version)
	}
	mods, err := findModules(root)
	if err != nil {
		return err
	}
	tags, err := gitTags(ctx, repo)
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "release-compat-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	trees := map[string]string{} // commit: the directory it was extracted to

	var errs []error
	for _, m := range mods {
		if !published(m.dir) {
			continue
		}
		modPath := m.file.Module.Mod.Path
		base := previousTag(tags, m.dir, version)
		if base == "" {
			fmt.Fprintf(w, "first release of %s, no API to compare\n", modPath)
			continue
		}
		commit, err := git(ctx, repo, "rev-parse", "--verify", "--end-of-options", base+"^{commit}")
		if err != nil {
			return err
		}
		commit = strings.TrimSpace(commit)
		tree, ok := trees[commit]
		if !ok {
			tree = filepath.Join(scratch, commit)
			if err := extract(ctx, repo, commit, tree); err != nil {
				return fmt.Errorf("extracting %s: %w", base, err)
			}
			trees[commit] = tree
		}
		oldDir := filepath.Join(tree, filepath.FromSlash(m.dir))
		if _, err := os.Stat(filepath.Join(oldDir, "go.mod")); err != nil {
			return fmt.Errorf("tag %s names the module in %q, which has no go.mod at that tag", base, m.dir)
		}
		old, err := loadModule(ctx, oldDir)
		if err != nil {
			return fmt.Errorf("loading %s at %s: %w", modPath, base, err)
		}
		cur, err := loadModule(ctx, filepath.Join(root, filepath.FromSlash(m.dir)))
		if err != nil {
			return fmt.Errorf("loading %s at %s: %w", modPath, version, err)
		}
		report := apidiff.ModuleChanges(old, cur)
		incompatible := 0
		for _, c := range report.Changes {
			if !c.Compatible {
				incompatible++
			}
		}
		fmt.Fprintf(w, "%s %s against %s: %d incompatible and %d compatible changes\n",
			modPath, version, base, incompatible, len(report.Changes)-incompatible)
		for _, c := range report.Changes {
			sign := "+"
			if !c.Compatible {
				sign = "!"
			}
			fmt.Fprintf(w, "  %s %s\n", sign, c.Message)
		}
		if incompatible > 0 && !breakingAllowed(tagVersion(base), version) {
			errs = append(errs, fmt.Errorf("%s: %d incompatible API changes since %s, which %s does not allow (%s)",
				modPath, incompatible, base, version, bumpNeeded(tagVersion(base))))
		}
	}
	return errors.Join(errs...)
}

// previousTag returns the newest of tags that releases the module in dir
// (relative to the root of the repository, "" for the root module) at a
// version lower than version, or "" if there is none. Prerelease tags and
// tags that are not canonical semantic versions are left out.
func previousTag(tags []string, dir, version string) string {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	best := ""
	for _, tag := range tags {
		v, ok := strings.CutPrefix(tag, prefix)
		if !ok || semver.Canonical(v) != v || semver.Prerelease(v) != "" {
			continue // another module's tag ("v0.1.0" has no "/" to cut), or no release
		}
		if semver.Compare(v, version) < 0 && (best == "" || semver.Compare(v, tagVersion(best)) > 0) {
			best = tag
		}
	}
	return best
}

// tagVersion returns the version of a tag: its last element.
func tagVersion(tag string) string { return path.Base(tag) }

// breakingAllowed reports whether going from base to release may break
// the API: in v0 when the minor or major version changes, from v1 on only
// when the major version changes.
func breakingAllowed(base, release string) bool {
	if semver.Major(release) != semver.Major(base) {
		return true
	}
	return semver.Major(release) == "v0" && semver.MajorMinor(release) != semver.MajorMinor(base)
}

// bumpNeeded says which version bump after base allows incompatible
// changes.
func bumpNeeded(base string) string {
	if semver.Major(base) == "v0" {
		return "v0 modules need a new minor or major version for them"
	}
	return "from v1 on, only a new major version allows them"
}

// gitTags lists the tags of the git repository at repo.
func gitTags(ctx context.Context, repo string) ([]string, error) {
	out, err := git(ctx, repo, "tag", "--list")
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// git runs git with args in the repository at repo and returns its
// standard output.
func git(ctx context.Context, repo string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", repo}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// extract writes the files of commit in the git repository at repo into
// the new directory dir, as `git archive` gives them, without touching the
// repository's work tree.
func extract(ctx context.Context, repo, commit, dir string) error {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", "-C", repo, "archive", "--format=tar", commit)
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	werr := untar(out, dir)
	if werr != nil {
		_, _ = io.Copy(io.Discard, out) // let git finish writing
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git archive %s: %w: %s", commit, err, strings.TrimSpace(stderr.String()))
	}
	return werr
}

// untar writes the directories, files and symbolic links of the tar
// stream r under dir.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if !filepath.IsLocal(h.Name) {
			return fmt.Errorf("archive entry %q is outside the tree", h.Name)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			err = writeFile(p, tr, h.FileInfo().Mode().Perm())
		case tar.TypeSymlink:
			if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
				err = os.Symlink(h.Linkname, p)
			}
		}
		if err != nil {
			return err
		}
	}
}

// writeFile creates the file p, and its directory, with the contents of r.
func writeFile(p string, r io.Reader, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	return errors.Join(err, f.Close())
}

// loadModule type-checks the importable packages of the module in dir:
// all but its commands and its internal packages, which no other module
// can import. The module is loaded alone (GOWORK=off), as it is published,
// its replace directives to sibling directories aside.
func loadModule(ctx context.Context, dir string) (*apidiff.Module, error) {
	cfg := &packages.Config{
		Context: ctx,
		Dir:     dir,
		Env:     append(os.Environ(), "GOWORK=off"),
		Mode:    packages.NeedName | packages.NeedTypes | packages.NeedModule,
	}
	loaded, err := packages.Load(cfg, "./...")
	if err != nil {
		return nil, err
	}
	var (
		mod  = &apidiff.Module{}
		errs []error
	)
	for _, p := range loaded {
		for _, e := range p.Errors {
			errs = append(errs, e)
		}
		if p.Module == nil {
			errs = append(errs, fmt.Errorf("%s: not in a module", p.PkgPath))
			continue
		}
		mod.Path = p.Module.Path
		if p.Name == "main" || internal(strings.TrimPrefix(p.PkgPath, p.Module.Path)) {
			continue
		}
		mod.Packages = append(mod.Packages, p.Types)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if mod.Path == "" {
		return nil, fmt.Errorf("no package in %s", dir)
	}
	return mod, nil
}

// internal reports whether the package at rel, its path relative to its
// module's, is an internal package.
func internal(rel string) bool {
	return slices.Contains(strings.Split(strings.Trim(rel, "/"), "/"), "internal")
}
