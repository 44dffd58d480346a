package wsk_test

// The repository teaches on its own: SPEC.md states the model, TESTING.md maps its
// invariants and the hazard catalogue to tests, and every citation in the code resolves
// to one of them. The tests here keep the three in step. They read files only, so they
// run on every platform.

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	specInvariants = 60 // SPEC.md §10 numbers its invariants 1–60
	testingCases   = 49 // TESTING.md numbers its hazard cases 1–49
)

// specSections are the numbered headings that code and docs cite; SPEC.md keeps every one.
var specSections = []string{
	"0", "1", "1.1", "1.2", "1.3", "1.4",
	"2", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9",
	"3", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6",
	"4", "4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8", "4.9",
	"5", "5.1", "5.2", "5.3", "5.4", "5.5",
	"6", "6.1", "6.2", "6.3", "6.4", "6.5",
	"7", "7.1", "7.2", "7.3", "8", "9", "10",
}

// outsideDocuments are the ways a text can point at a document that is not in the
// repository. They are spelled in two halves so that this file does not match itself.
var outsideDocuments = []string{
	"reference" + " §", "wsk-" + "semantics", "reliability" + ".md", "reliability" + " case",
	"reliability" + " §", "performance" + ".md", "style" + ".md", "../" + "shared",
}

var (
	headingRE    = regexp.MustCompile(`^#{2,3} (\d+(?:\.\d+)?)\.?\s`)
	listItemRE   = regexp.MustCompile(`^(\d+)\. `)
	caseItemRE   = regexp.MustCompile(`^(\d+)\. \*\*\w+\*\*`)
	entryRE      = regexp.MustCompile(`^- \*\*(Invariant|Case) (\d+)\*\*`)
	testTokenRE  = regexp.MustCompile("`([a-z][a-z0-9_/]*)\\.(Test[A-Za-z0-9_*]*)`")
	pendingRE    = regexp.MustCompile(`not yet covered \(issue \d+\)`)
	testFuncRE   = regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	invNamedRE   = regexp.MustCompile(`^TestInvariant(\d+)`)
	sectionRE    = regexp.MustCompile(`§ ?(\d+(?:\.\d+)?)`)
	invariantRE  = regexp.MustCompile(`(?i)\binvariants? (\d+)(?: ?[–-] ?(\d+))?`)
	caseCitingRE = regexp.MustCompile(`TESTING\.md,? cases? (\d+)(?: ?[–-] ?(\d+))?`)
)

// repoRoot walks up from the package directory to the go.mod of the module.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for range 10 {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		dir = filepath.Dir(dir)
	}
	require.FailNow(t, "no go.mod above the package directory")
	return ""
}

// markdownSections splits a markdown file into its "## " sections by title.
func markdownSections(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	out := map[string][]string{}
	title := ""
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "## ") {
			title = strings.TrimPrefix(line, "## ")
		}
		out[title] = append(out[title], line)
	}
	return out
}

// spec is what SPEC.md defines: its numbered headings and its invariants.
type spec struct {
	sections   map[string]bool
	invariants []int // in document order
}

func readSpec(t *testing.T, root string) spec {
	t.Helper()
	s := spec{sections: map[string]bool{}}
	for title, lines := range markdownSections(t, filepath.Join(root, "SPEC.md")) {
		inInvariants := strings.HasPrefix(title, "10.")
		for _, line := range lines {
			if m := headingRE.FindStringSubmatch(line); m != nil {
				s.sections[m[1]] = true
			}
			if m := listItemRE.FindStringSubmatch(line); m != nil && inInvariants {
				n, _ := strconv.Atoi(m[1])
				s.invariants = append(s.invariants, n)
			}
		}
	}
	return s
}

// entry is one "- **Invariant N**" or "- **Case N**" item of TESTING.md, continuation
// lines included.
type entry struct {
	n    int
	text string
}

// testingDoc is what TESTING.md holds.
type testingDoc struct {
	cases      []int // the catalogue, in document order
	invariants []entry
	coverage   []entry // the cases and their tests
	whole      string
}

func readTesting(t *testing.T, root string) testingDoc {
	t.Helper()
	var d testingDoc
	sections := markdownSections(t, filepath.Join(root, "TESTING.md"))
	for _, line := range sections["The hazard catalogue"] {
		if m := caseItemRE.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			d.cases = append(d.cases, n)
		}
	}
	d.invariants = entries(sections["Invariants and their tests"], "Invariant")
	d.coverage = entries(sections["Cases and their tests"], "Case")
	for _, lines := range sections {
		d.whole += strings.Join(lines, "\n") + "\n"
	}
	return d
}

// entries collects the entries of one kind; an entry runs until the next one, a blank
// line or a line that is not indented.
func entries(lines []string, kind string) []entry {
	var out []entry
	open := false
	for _, line := range lines {
		if m := entryRE.FindStringSubmatch(line); m != nil && m[1] == kind {
			n, _ := strconv.Atoi(m[2])
			out = append(out, entry{n: n, text: line})
			open = true
			continue
		}
		if open && strings.HasPrefix(line, "  ") {
			out[len(out)-1].text += " " + strings.TrimSpace(line)
			continue
		}
		open = false
	}
	return out
}

// testFuncs maps each directory (relative, slash-separated) to the Test functions of its
// _test.go files, and keeps the files' text for the claim scan.
type testFuncs struct {
	byDir map[string]map[string]bool
	files map[string]string
}

func readTestFuncs(t *testing.T, root string) testFuncs {
	t.Helper()
	tf := testFuncs{byDir: map[string]map[string]bool{}, files: map[string]string{}}
	walkRepo(t, root, func(rel string, b []byte) {
		if !strings.HasSuffix(rel, "_test.go") {
			return
		}
		dir := filepath.ToSlash(filepath.Dir(rel))
		if tf.byDir[dir] == nil {
			tf.byDir[dir] = map[string]bool{}
		}
		for _, m := range testFuncRE.FindAllSubmatch(b, -1) {
			tf.byDir[dir][string(m[1])] = true
		}
		tf.files[rel] = string(b)
	})
	return tf
}

// has reports whether dir holds a test matching name, where * matches any run of
// characters (so `wsk.TestConformance*Families` names a family of tests).
func (tf testFuncs) has(dir, name string) bool {
	if !strings.Contains(name, "*") {
		return tf.byDir[dir][name]
	}
	re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(name), `\*`, ".*") + "$")
	for fn := range tf.byDir[dir] {
		if re.MatchString(fn) {
			return true
		}
	}
	return false
}

// walkRepo calls fn with every .go, .md and .pml file of the repository, skipping .git
// and the checked-in benchmark results.
func walkRepo(t *testing.T, root string, fn func(rel string, b []byte)) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.Name() == ".git" || filepath.ToSlash(rel) == "bench/results" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".pml":
		default:
			return nil
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fn(filepath.ToSlash(rel), b)
		return nil
	})
	require.NoError(t, err)
}

// numbersIn expands a citation match: a single number, or a range when to is set.
func numbersIn(from, to string) []int {
	a, _ := strconv.Atoi(from)
	if to == "" {
		return []int{a}
	}
	b, _ := strconv.Atoi(to)
	var out []int
	for n := a; n <= b && n-a < 100; n++ {
		out = append(out, n)
	}
	return out
}

func TestSpecHasItsSectionsAndInvariants(t *testing.T) {
	s := readSpec(t, repoRoot(t))
	for _, sec := range specSections {
		require.True(t, s.sections[sec], "SPEC.md has no heading numbered %s", sec)
	}
	want := make([]int, specInvariants)
	for i := range want {
		want[i] = i + 1
	}
	require.Equal(t, want, s.invariants, "SPEC.md §10 numbers its invariants 1–%d, in order", specInvariants)
}

func TestTestingMapsEveryInvariant(t *testing.T) {
	root := repoRoot(t)
	s, d, tf := readSpec(t, root), readTesting(t, root), readTestFuncs(t, root)
	known := map[int]bool{}
	for _, n := range s.invariants {
		known[n] = true
	}

	rows := map[int]entry{}
	for _, e := range d.invariants {
		require.True(t, known[e.n], "TESTING.md maps invariant %d, which SPEC.md does not have", e.n)
		_, dup := rows[e.n]
		require.False(t, dup, "TESTING.md maps invariant %d twice", e.n)
		rows[e.n] = e
	}

	claims := claimedInvariants(tf)
	for n := 1; n <= specInvariants; n++ {
		e, ok := rows[n]
		require.True(t, ok, "TESTING.md has no entry for invariant %d", n)
		tests := testTokenRE.FindAllStringSubmatch(e.text, -1)
		if pendingRE.MatchString(e.text) && len(tests) == 0 {
			require.Empty(t, claims[n], "invariant %d is marked not yet covered, but tests claim it", n)
			continue
		}
		require.NotEmpty(t, tests, "the entry for invariant %d names no test", n)
		for _, name := range claims[n] {
			if fn, ok := strings.CutPrefix(name, "func "); ok && invNamedRE.MatchString(fn) {
				require.Contains(t, e.text, fn, "%s is named for invariant %d; list it there", fn, n)
			}
		}
	}

	for _, m := range testTokenRE.FindAllStringSubmatch(d.whole, -1) {
		require.True(t, tf.has(m[1], m[2]), "TESTING.md names %s.%s, which no _test.go file of %s defines",
			m[1], m[2], m[1])
	}
}

// claimedInvariants maps each invariant number to the places in test files that claim it:
// "file:line" for a citation in the text, "func TestInvariantN…" for a test named for it.
func claimedInvariants(tf testFuncs) map[int][]string {
	out := map[int][]string{}
	for rel, text := range tf.files {
		if strings.HasSuffix(rel, "spec_consistency_test.go") {
			continue
		}
		for i, line := range strings.Split(text, "\n") {
			for _, m := range invariantRE.FindAllStringSubmatch(line, -1) {
				for _, n := range numbersIn(m[1], m[2]) {
					out[n] = append(out[n], fmt.Sprintf("%s:%d", rel, i+1))
				}
			}
		}
		for _, m := range testFuncRE.FindAllStringSubmatch(text, -1) {
			if inv := invNamedRE.FindStringSubmatch(m[1]); inv != nil {
				n, _ := strconv.Atoi(inv[1])
				out[n] = append(out[n], "func "+m[1])
			}
		}
	}
	return out
}

func TestTestingCataloguesEveryCase(t *testing.T) {
	root := repoRoot(t)
	d := readTesting(t, root)
	want := make([]int, testingCases)
	for i := range want {
		want[i] = i + 1
	}
	require.Equal(t, want, d.cases, "TESTING.md's catalogue numbers its cases 1–%d, in order", testingCases)

	seen := map[int]bool{}
	for _, e := range d.coverage {
		require.True(t, e.n >= 1 && e.n <= testingCases, "TESTING.md covers case %d, which the catalogue lacks", e.n)
		require.False(t, seen[e.n], "TESTING.md covers case %d twice", e.n)
		seen[e.n] = true
		named := testTokenRE.MatchString(e.text)
		require.True(t, named || strings.Contains(e.text, "not "),
			"case %d names no test and does not say why (not applicable, not covered, …)", e.n)
	}
	for n := 1; n <= testingCases; n++ {
		require.True(t, seen[n], "TESTING.md does not say which tests cover case %d", n)
	}
}

// TestCitationsStayInTheRepository reads every .go, .md and .pml file: a section sign
// must name a numbered heading of SPEC.md, an invariant number must be in its list, a
// TESTING.md case must be in the catalogue, and nothing may point at a document outside
// the repository. It lists every offending place at once.
func TestCitationsStayInTheRepository(t *testing.T) {
	root := repoRoot(t)
	s, d := readSpec(t, root), readTesting(t, root)
	invariants, cases := map[int]bool{}, map[int]bool{}
	for _, n := range s.invariants {
		invariants[n] = true
	}
	for _, n := range d.cases {
		cases[n] = true
	}

	var bad []string
	walkRepo(t, root, func(rel string, b []byte) {
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for line := 1; sc.Scan(); line++ {
			text := sc.Text()
			report := func(why string) {
				bad = append(bad, fmt.Sprintf("%s:%d: %s: %s", rel, line, why, strings.TrimSpace(text)))
			}
			for _, m := range sectionRE.FindAllStringSubmatch(text, -1) {
				if !s.sections[m[1]] {
					report("SPEC.md has no §" + m[1])
				}
			}
			for _, m := range invariantRE.FindAllStringSubmatch(text, -1) {
				for _, n := range numbersIn(m[1], m[2]) {
					if !invariants[n] {
						report(fmt.Sprintf("SPEC.md has no invariant %d", n))
					}
				}
			}
			for _, m := range caseCitingRE.FindAllStringSubmatch(text, -1) {
				for _, n := range numbersIn(m[1], m[2]) {
					if !cases[n] {
						report(fmt.Sprintf("TESTING.md has no case %d", n))
					}
				}
			}
			lower := strings.ToLower(text)
			for _, p := range outsideDocuments {
				if strings.Contains(lower, p) {
					report(fmt.Sprintf("cites a document outside the repository (%q)", p))
				}
			}
		}
		require.NoError(t, sc.Err(), rel)
	})
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("%d citations do not resolve inside the repository:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}
