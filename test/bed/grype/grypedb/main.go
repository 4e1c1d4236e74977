// Command grypedb builds the sandbox's grype vulnerability database from the same advisories.yaml as the
// trivy database (test/bed/trivydb/advisories.yaml), so both scanners know the same advisories.
//
// It writes <out>/vulnerability.db, a grype schema v6 SQLite database, with grype's own v6 writer
// (github.com/anchore/grype/grype/db/v6, the version test/bed/grype/go.mod pins, i.e. the grype that reads
// it). The records have the shape grype's public database gives these sources:
//   - GitHub advisories (provider "github"): one record per GHSA id, named by it, with the CVE as alias, the
//     GitHub summary (the yaml's ghsa title) as description, the GitHub severity word first and its CVSS
//     second, and one affected package per (ecosystem, package) with one version range per vulnerable range
//     (each with its own fix);
//   - NVD (provider "nvd"): one record per CVE with NVD's CVSS (no affected packages: nothing is matched by CPE);
//   - Alpine secdb (provider "alpine"): one record per CVE for the distribution release, with the fixed
//     version as an apk range (the secdb carries no severity).
//
// The database is not usable by grype as written: `grype db import <out>/vulnerability.db` hydrates it
// (creates the indexes), writes the import metadata and installs it under $GRYPE_DB_CACHE_DIR/6/, as it does
// for a downloaded database. test/bed/install-grype.sh runs both steps.
//
// Usage: grypedb -advisories advisories.yaml -out DIR
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v6 "github.com/anchore/grype/grype/db/v6"
	"gopkg.in/yaml.v3"
)

// advisoryFile is the shape of advisories.yaml (documented at the top of that file).
type advisoryFile struct {
	Advisories []advisory `yaml:"advisories"`
}

type advisory struct {
	ID       string            `yaml:"id"`
	Sources  map[string]source `yaml:"sources"`
	Affected []affected        `yaml:"affected"`
}

type source struct {
	Title       string     `yaml:"title"`
	Description string     `yaml:"description"`
	Severity    string     `yaml:"severity"`
	CVSSv3      *cvss      `yaml:"cvssV3"`
	CweIDs      []string   `yaml:"cweIds"`
	References  []string   `yaml:"references"`
	Published   *time.Time `yaml:"published"`
	Modified    *time.Time `yaml:"modified"`
}

type cvss struct {
	Vector string  `yaml:"vector"`
	Score  float64 `yaml:"score"`
}

type affected struct {
	Ecosystem          string   `yaml:"ecosystem"`
	OS                 string   `yaml:"os"`
	Package            string   `yaml:"package"`
	VulnerableVersions []string `yaml:"vulnerableVersions"`
	PatchedVersions    []string `yaml:"patchedVersions"`
	VendorIDs          []string `yaml:"vendorIds"`
	FixedVersion       string   `yaml:"fixedVersion"`
}

// The version format grype compares each ecosystem's versions with.
var versionTypes = map[string]string{"npm": "semver"}

// The CVSS source names grype's public database uses for these providers.
const (
	githubCVSSSource = "security-advisories@github.com"
	nvdCVSSSource    = "nvd@nist.gov"
)

func main() {
	advisoriesPath := flag.String("advisories", "advisories.yaml", "YAML file with the advisories to store")
	outDir := flag.String("out", "", "directory to write vulnerability.db into (created; an old database there is replaced)")
	flag.Parse()
	if *outDir == "" {
		fail(errors.New("-out is required"))
	}
	started := time.Now()
	count, err := build(*advisoriesPath, *outDir)
	if err != nil {
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "grypedb: wrote %d records to %s in %s\n",
		count, filepath.Join(*outDir, v6.VulnerabilityDBFileName), time.Since(started).Round(time.Millisecond))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "grypedb: %v\n", err)
	os.Exit(1)
}

func load(path string) (advisoryFile, error) {
	var file advisoryFile
	raw, err := os.ReadFile(path)
	if err != nil {
		return file, fmt.Errorf("read advisories: %w", err)
	}
	decoder := yaml.NewDecoder(bytes.NewReader(raw))
	decoder.KnownFields(true)
	if err := decoder.Decode(&file); err != nil {
		return file, fmt.Errorf("%s: %w", path, err)
	}
	if len(file.Advisories) == 0 {
		return file, fmt.Errorf("%s: expected a non-empty `advisories:` list", path)
	}
	return file, nil
}

func build(advisoriesPath, outDir string) (int, error) {
	file, err := load(advisoriesPath)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return 0, err
	}
	writer, err := v6.NewWriter(v6.Config{DBDirPath: outDir})
	if err != nil {
		return 0, fmt.Errorf("open the v6 writer: %w", err)
	}
	// Providers say when their data was captured; a fixed date keeps the database the same from run to run.
	captured := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	provider := func(id string) *v6.Provider {
		return &v6.Provider{ID: id, Version: "1", Processor: "gantry-testbed", DateCaptured: &captured}
	}
	providers := map[string]*v6.Provider{"github": provider("github"), "nvd": provider("nvd"), "alpine": provider("alpine")}

	count := 0
	for _, a := range file.Advisories {
		n, err := addAdvisory(writer, providers, a)
		if err != nil {
			_ = writer.Close()
			return 0, fmt.Errorf("%s: advisory %s: %w", advisoriesPath, a.ID, err)
		}
		count += n
	}
	// Close drops the indexes and vacuums (grype's own distribution step); `grype db import` re-creates them.
	if err := writer.Close(); err != nil {
		return 0, fmt.Errorf("close the database: %w", err)
	}
	return count, nil
}

// addAdvisory writes the records of one advisory and returns how many vulnerability records it wrote.
func addAdvisory(w v6.ReadWriter, providers map[string]*v6.Provider, a advisory) (int, error) {
	if a.ID == "" {
		return 0, errors.New("no id")
	}
	count := 0
	if nvd, ok := a.Sources["nvd"]; ok {
		record, err := nvdRecord(providers["nvd"], a.ID, nvd)
		if err != nil {
			return 0, fmt.Errorf("nvd: %w", err)
		}
		if err := w.AddVulnerabilities(record); err != nil {
			return 0, err
		}
		count++
	}

	// Language packages: one GitHub record per GHSA id, the packages it names attached to it.
	byGHSA := map[string][]affected{}
	var alpine []affected
	for _, pkg := range a.Affected {
		switch {
		case pkg.Ecosystem != "" && pkg.OS != "":
			return 0, fmt.Errorf("%s: give either ecosystem or os, not both", pkg.Package)
		case pkg.Ecosystem != "":
			if len(pkg.VendorIDs) != 1 || !strings.HasPrefix(pkg.VendorIDs[0], "GHSA-") {
				return 0, fmt.Errorf("%s: expected one GHSA id in vendorIds, got %v", pkg.Package, pkg.VendorIDs)
			}
			byGHSA[pkg.VendorIDs[0]] = append(byGHSA[pkg.VendorIDs[0]], pkg)
		case strings.HasPrefix(pkg.OS, "alpine "):
			alpine = append(alpine, pkg)
		default:
			return 0, fmt.Errorf("%s: expected ecosystem: <name> or os: \"alpine <major.minor>\", got os %q", pkg.Package, pkg.OS)
		}
	}
	ghsaIDs := make([]string, 0, len(byGHSA))
	for id := range byGHSA {
		ghsaIDs = append(ghsaIDs, id)
	}
	sort.Strings(ghsaIDs)
	for _, ghsaID := range ghsaIDs {
		ghsa, ok := a.Sources["ghsa"]
		if !ok {
			return 0, fmt.Errorf("%s: a language package needs a ghsa source", ghsaID)
		}
		record, err := githubRecord(providers["github"], ghsaID, a.ID, ghsa)
		if err != nil {
			return 0, fmt.Errorf("ghsa: %w", err)
		}
		if err := w.AddVulnerabilities(record); err != nil {
			return 0, err
		}
		count++
		for _, pkg := range byGHSA[ghsaID] {
			handle, err := languagePackage(record, a.ID, pkg)
			if err != nil {
				return 0, err
			}
			if err := w.AddAffectedPackages(handle); err != nil {
				return 0, err
			}
		}
	}

	for _, pkg := range alpine {
		handle, err := alpinePackage(providers["alpine"], a.ID, pkg)
		if err != nil {
			return 0, err
		}
		if err := w.AddVulnerabilities(handle.Vulnerability); err != nil {
			return 0, err
		}
		count++
		if err := w.AddAffectedPackages(handle); err != nil {
			return 0, err
		}
	}
	return count, nil
}

func cvssSeverity(c *cvss, sourceName string, rank int) (v6.Severity, error) {
	version, _, ok := strings.Cut(strings.TrimPrefix(c.Vector, "CVSS:"), "/")
	if !strings.HasPrefix(c.Vector, "CVSS:3.") || !ok {
		return v6.Severity{}, fmt.Errorf("cvssV3: expected a CVSS:3.x vector, got %q", c.Vector)
	}
	return v6.Severity{
		Scheme: v6.SeveritySchemeCVSS,
		Value:  v6.CVSSSeverity{Vector: c.Vector, Version: version},
		Source: sourceName,
		Rank:   rank,
	}, nil
}

func references(urls []string) []v6.Reference {
	out := make([]v6.Reference, 0, len(urls))
	for _, url := range urls {
		out = append(out, v6.Reference{URL: url})
	}
	return out
}

func nvdRecord(provider *v6.Provider, cve string, nvd source) (*v6.VulnerabilityHandle, error) {
	refs := nvd.References
	if len(refs) == 0 {
		refs = []string{"https://nvd.nist.gov/vuln/detail/" + cve}
	}
	blob := &v6.VulnerabilityBlob{ID: cve, Description: nvd.Description, References: references(refs)}
	if nvd.CVSSv3 != nil {
		severity, err := cvssSeverity(nvd.CVSSv3, nvdCVSSSource, 1)
		if err != nil {
			return nil, err
		}
		blob.Severities = []v6.Severity{severity}
	}
	return &v6.VulnerabilityHandle{
		Name: cve, Status: v6.VulnerabilityActive, PublishedDate: nvd.Published, ModifiedDate: nvd.Modified,
		Provider: provider, BlobValue: blob,
	}, nil
}

func githubRecord(provider *v6.Provider, ghsaID, cve string, ghsa source) (*v6.VulnerabilityHandle, error) {
	blob := &v6.VulnerabilityBlob{
		ID:          ghsaID,
		Description: ghsa.Title,
		Aliases:     []string{cve},
		References:  references(ghsa.References),
	}
	if ghsa.Severity != "" {
		blob.Severities = append(blob.Severities, v6.Severity{
			Scheme: v6.SeveritySchemeCHMLN, Value: strings.ToLower(ghsa.Severity), Source: githubCVSSSource, Rank: 1,
		})
	}
	if ghsa.CVSSv3 != nil {
		severity, err := cvssSeverity(ghsa.CVSSv3, githubCVSSSource, 2)
		if err != nil {
			return nil, err
		}
		blob.Severities = append(blob.Severities, severity)
	}
	return &v6.VulnerabilityHandle{
		Name: ghsaID, Status: v6.VulnerabilityActive, PublishedDate: ghsa.Published, ModifiedDate: ghsa.Modified,
		Provider: provider, BlobValue: blob,
	}, nil
}

func languagePackage(record *v6.VulnerabilityHandle, cve string, pkg affected) (*v6.AffectedPackageHandle, error) {
	versionType, ok := versionTypes[pkg.Ecosystem]
	if !ok {
		return nil, fmt.Errorf("%s: ecosystem %q is not supported by the grype database helper (only npm)", pkg.Package, pkg.Ecosystem)
	}
	if len(pkg.VulnerableVersions) == 0 || len(pkg.VulnerableVersions) != len(pkg.PatchedVersions) {
		return nil, fmt.Errorf("%s: expected one patched version per vulnerable range, got %v and %v",
			pkg.Package, pkg.VulnerableVersions, pkg.PatchedVersions)
	}
	ranges := make([]v6.Range, 0, len(pkg.VulnerableVersions))
	for i, constraint := range pkg.VulnerableVersions {
		ranges = append(ranges, v6.Range{
			Version: v6.Version{Type: versionType, Constraint: constraint},
			Fix:     &v6.Fix{Version: pkg.PatchedVersions[i], State: v6.FixedStatus},
		})
	}
	return &v6.AffectedPackageHandle{
		Vulnerability: record,
		Package:       &v6.Package{Ecosystem: pkg.Ecosystem, Name: pkg.Package},
		BlobValue:     &v6.PackageBlob{CVEs: []string{cve}, Ranges: ranges},
	}, nil
}

func alpinePackage(provider *v6.Provider, cve string, pkg affected) (*v6.AffectedPackageHandle, error) {
	release := strings.TrimPrefix(pkg.OS, "alpine ")
	major, minor, ok := strings.Cut(release, ".")
	if !ok || pkg.FixedVersion == "" {
		return nil, fmt.Errorf("%s: expected os: \"alpine <major.minor>\" and a fixedVersion, got %q / %q", pkg.Package, pkg.OS, pkg.FixedVersion)
	}
	record := &v6.VulnerabilityHandle{
		Name: cve, Status: v6.VulnerabilityActive, Provider: provider,
		BlobValue: &v6.VulnerabilityBlob{
			ID:         cve,
			References: []v6.Reference{{URL: "https://security.alpinelinux.org/vuln/" + cve}},
		},
	}
	return &v6.AffectedPackageHandle{
		Vulnerability:   record,
		OperatingSystem: &v6.OperatingSystem{Name: "alpine", ReleaseID: "alpine", MajorVersion: major, MinorVersion: minor},
		Package:         &v6.Package{Ecosystem: "apk", Name: pkg.Package},
		BlobValue: &v6.PackageBlob{
			CVEs: []string{cve},
			Ranges: []v6.Range{{
				Version: v6.Version{Type: "apk", Constraint: "< " + pkg.FixedVersion},
				Fix:     &v6.Fix{Version: pkg.FixedVersion, State: v6.FixedStatus},
			}},
		},
	}, nil
}
