package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aquasecurity/trivy-db/pkg/types"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/bucket"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/vulnerability"
	"gopkg.in/yaml.v3"
)

// AdvisoryFile is the shape of advisories.yaml (documented at the top of that file).
type AdvisoryFile struct {
	Advisories []Advisory `yaml:"advisories"`
}

// Advisory is one vulnerability: what each data source says about it and which packages it affects.
type Advisory struct {
	ID       string            `yaml:"id"`
	Sources  map[string]Source `yaml:"sources"`
	Affected []Affected        `yaml:"affected"`
}

// Source is one data source's record of a vulnerability (trivy-db's VulnerabilityDetail).
type Source struct {
	Title       string     `yaml:"title"`
	Description string     `yaml:"description"`
	Severity    string     `yaml:"severity"`
	CVSSv3      *CVSS      `yaml:"cvssV3"`
	CweIDs      []string   `yaml:"cweIds"`
	References  []string   `yaml:"references"`
	Published   *time.Time `yaml:"published"`
	Modified    *time.Time `yaml:"modified"`
}

// CVSS is a CVSS v3 vector and its base score.
type CVSS struct {
	Vector string  `yaml:"vector"`
	Score  float64 `yaml:"score"`
}

// Affected is one affected package: a language package (ecosystem + version ranges, matched through the
// GitHub Advisory Database source) or an OS package (os + fixed version, matched through that distribution).
type Affected struct {
	Ecosystem          string   `yaml:"ecosystem"`
	OS                 string   `yaml:"os"`
	Package            string   `yaml:"package"`
	VulnerableVersions []string `yaml:"vulnerableVersions"`
	PatchedVersions    []string `yaml:"patchedVersions"`
	VendorIDs          []string `yaml:"vendorIds"`
	FixedVersion       string   `yaml:"fixedVersion"`
}

// ghsaEcosystems maps trivy's ecosystem names to the GitHub Advisory Database's, which name the buckets.
var ghsaEcosystems = map[string]string{
	"npm":      "npm",
	"pip":      "pip",
	"go":       "Go",
	"maven":    "Maven",
	"rubygems": "RubyGems",
	"cargo":    "Rust",
	"composer": "Composer",
	"nuget":    "NuGet",
}

func loadAdvisories(path string) (AdvisoryFile, error) {
	var file AdvisoryFile
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
	seen := map[string]bool{}
	for i, advisory := range file.Advisories {
		switch {
		case advisory.ID == "":
			return file, fmt.Errorf("%s: advisories[%d] has no id", path, i)
		case seen[advisory.ID]:
			return file, fmt.Errorf("%s: advisory %s is listed twice", path, advisory.ID)
		case len(advisory.Sources) == 0:
			return file, fmt.Errorf("%s: advisory %s has no sources", path, advisory.ID)
		case len(advisory.Affected) == 0:
			return file, fmt.Errorf("%s: advisory %s affects no package", path, advisory.ID)
		}
		seen[advisory.ID] = true
	}
	return file, nil
}

func sourceID(name string) types.SourceID {
	return types.SourceID(name)
}

func (s Source) detail() (types.VulnerabilityDetail, error) {
	detail := types.VulnerabilityDetail{
		Title:            s.Title,
		Description:      s.Description,
		CweIDs:           s.CweIDs,
		References:       s.References,
		PublishedDate:    s.Published,
		LastModifiedDate: s.Modified,
	}
	if s.Severity != "" {
		severity, err := types.NewSeverity(strings.ToUpper(s.Severity))
		if err != nil {
			return detail, fmt.Errorf("severity: expected one of %s, got %q",
				strings.Join(types.SeverityNames, ", "), s.Severity)
		}
		// Both fields, as trivy-db's NVD source does: Severity feeds the vendor severity when no V3 one exists.
		detail.Severity = severity
		if s.CVSSv3 != nil {
			detail.SeverityV3 = severity
		}
	}
	if s.CVSSv3 != nil {
		if !strings.HasPrefix(s.CVSSv3.Vector, "CVSS:3.") || s.CVSSv3.Score <= 0 || s.CVSSv3.Score > 10 {
			return detail, fmt.Errorf("cvssV3: expected a CVSS:3.x vector and a score in (0, 10], got %q / %v",
				s.CVSSv3.Vector, s.CVSSv3.Score)
		}
		detail.CvssVectorV3 = s.CVSSv3.Vector
		detail.CvssScoreV3 = s.CVSSv3.Score
	}
	return detail, nil
}

// platform names the bucket trivy looks the package up in, and the data source it credits.
func (a Affected) platform() (string, types.DataSource, error) {
	if a.Package == "" {
		return "", types.DataSource{}, errors.New("package is required")
	}
	switch {
	case a.Ecosystem != "" && a.OS != "":
		return "", types.DataSource{}, errors.New("give either ecosystem (language package) or os (OS package), not both")
	case a.Ecosystem != "":
		ghsaName, ok := ghsaEcosystems[a.Ecosystem]
		if !ok {
			return "", types.DataSource{}, fmt.Errorf("ecosystem: expected one of npm, pip, go, maven, rubygems, cargo, composer, nuget, got %q", a.Ecosystem)
		}
		if len(a.VulnerableVersions) == 0 {
			return "", types.DataSource{}, errors.New("vulnerableVersions is required for a language package")
		}
		source := types.DataSource{
			ID:   vulnerability.GHSA,
			Name: "GitHub Security Advisory " + ghsaName,
			URL:  "https://github.com/advisories?query=type%3Areviewed+ecosystem%3A" + strings.ToLower(ghsaName),
		}
		return bucket.Name(types.Ecosystem(a.Ecosystem), source.Name), source, nil
	case strings.HasPrefix(a.OS, "alpine "):
		source := types.DataSource{ID: vulnerability.Alpine, Name: "Alpine Secdb", URL: "https://secdb.alpinelinux.org/"}
		return a.OS, source, nil
	default:
		return "", types.DataSource{}, fmt.Errorf("expected ecosystem: <name> or os: \"alpine <major.minor>\", got os %q", a.OS)
	}
}

func (a Affected) advisory() types.Advisory {
	if a.OS != "" {
		return types.Advisory{FixedVersion: a.FixedVersion}
	}
	return types.Advisory{
		VendorIDs:          a.VendorIDs,
		VulnerableVersions: a.VulnerableVersions,
		PatchedVersions:    a.PatchedVersions,
	}
}
