// Command trivydb builds the sandbox's trivy vulnerability database from advisories.yaml.
//
// It writes <out>/db/trivy.db and <out>/db/metadata.json, the two files trivy reads from
// $TRIVY_CACHE_DIR/db when started with --skip-db-update. The bolt file is written with trivy-db's own
// packages, in the same two phases as trivy-db's build: first one detail record per (vulnerability,
// source) plus the advisories per package, then an "optimise" pass that normalises the details into the
// `vulnerability` bucket, copies advisories into their platform buckets and drops the staging buckets.
// So the layout is exactly what trivy v0.65.0 expects, and the severity/title rules are trivy-db's.
//
// Usage: trivydb -advisories advisories.yaml -out ~/.cache/gantry-testbed/trivy-cache
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/vulnerability"
	bolt "go.etcd.io/bbolt"
)

// nextUpdate is far in the future so that no trivy ever thinks this database is stale.
var nextUpdate = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	advisoriesPath := flag.String("advisories", "advisories.yaml", "YAML file with the advisories to store")
	outDir := flag.String("out", "", "trivy cache directory; the database goes to <out>/db/")
	flag.Parse()
	if *outDir == "" {
		fail(errors.New("-out is required (the trivy cache directory, e.g. ~/.cache/gantry-testbed/trivy-cache)"))
	}
	started := time.Now()
	count, err := build(*advisoriesPath, *outDir)
	if err != nil {
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "trivydb: wrote %d advisories to %s in %s\n",
		count, filepath.Join(*outDir, "db"), time.Since(started).Round(time.Millisecond))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "trivydb: %v\n", err)
	os.Exit(1)
}

// build writes the database into a staging directory next to <out>/db and swaps it in at the end, so a
// failed build never leaves trivy with a half-written database.
func build(advisoriesPath, outDir string) (int, error) {
	file, err := loadAdvisories(advisoriesPath)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return 0, fmt.Errorf("create %s: %w", outDir, err)
	}
	staging, err := os.MkdirTemp(outDir, "db-staging-")
	if err != nil {
		return 0, fmt.Errorf("create staging directory in %s: %w", outDir, err)
	}
	defer os.RemoveAll(staging)
	if err := os.Chmod(staging, 0o755); err != nil {
		return 0, fmt.Errorf("make %s readable: %w", staging, err)
	}

	if err := writeDatabase(staging, file.Advisories); err != nil {
		return 0, err
	}
	now := time.Now().UTC()
	meta := metadata.Metadata{Version: db.SchemaVersion, NextUpdate: nextUpdate, UpdatedAt: now, DownloadedAt: now}
	if err := metadata.NewClient(staging).Update(meta); err != nil {
		return 0, fmt.Errorf("write metadata.json: %w", err)
	}

	final := filepath.Join(outDir, "db")
	if err := os.RemoveAll(final); err != nil {
		return 0, fmt.Errorf("remove the previous database %s: %w", final, err)
	}
	if err := os.Rename(staging, final); err != nil {
		return 0, fmt.Errorf("move the new database into %s: %w", final, err)
	}
	return len(file.Advisories), nil
}

func writeDatabase(dir string, advisories []Advisory) error {
	if err := db.Init(dir); err != nil {
		return fmt.Errorf("open bolt database in %s: %w", dir, err)
	}
	defer db.Close()
	dbc := db.Config{}

	err := dbc.BatchUpdate(func(tx *bolt.Tx) error {
		for _, advisory := range advisories {
			if err := putAdvisory(dbc, tx, advisory); err != nil {
				return fmt.Errorf("%s: %w", advisory.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store advisories: %w", err)
	}
	if err := optimize(dbc); err != nil {
		return err
	}
	return cleanup(dbc)
}

// putAdvisory stages one vulnerability: its per-source details and, per affected package, the advisory in
// the platform bucket trivy looks up ("npm::GitHub Security Advisory npm", "alpine 3.16", ...).
func putAdvisory(dbc db.Config, tx *bolt.Tx, advisory Advisory) error {
	for sourceName, source := range advisory.Sources {
		detail, err := source.detail()
		if err != nil {
			return fmt.Errorf("sources.%s: %w", sourceName, err)
		}
		if err := dbc.PutVulnerabilityDetail(tx, advisory.ID, sourceID(sourceName), detail); err != nil {
			return err
		}
	}
	for i, affected := range advisory.Affected {
		platform, dataSource, err := affected.platform()
		if err != nil {
			return fmt.Errorf("affected[%d]: %w", i, err)
		}
		if err := dbc.PutDataSource(tx, platform, dataSource); err != nil {
			return err
		}
		if err := dbc.PutAdvisoryDetail(tx, advisory.ID, affected.Package, []string{platform}, affected.advisory()); err != nil {
			return err
		}
	}
	return dbc.PutVulnerabilityID(tx, advisory.ID)
}

// optimize is trivy-db's second phase: normalise each vulnerability's details (title, severity per vendor,
// CVSS, references) into the `vulnerability` bucket and copy the advisories into their platform buckets.
func optimize(dbc db.Config) error {
	vulnClient := vulnerability.New(dbc)
	err := dbc.ForEachVulnerabilityID(func(tx *bolt.Tx, vulnID string) error {
		if err := dbc.SaveAdvisoryDetails(tx, vulnID); err != nil {
			return err
		}
		details := vulnClient.GetDetails(vulnID)
		if len(details) == 0 {
			return nil
		}
		return dbc.PutVulnerability(tx, vulnID, vulnClient.Normalize(vulnID, details))
	})
	if err != nil {
		return fmt.Errorf("normalise vulnerabilities: %w", err)
	}
	return nil
}

// cleanup drops the staging buckets, as trivy-db does before publishing a database.
func cleanup(dbc db.Config) error {
	if err := dbc.DeleteVulnerabilityIDBucket(); err != nil {
		return fmt.Errorf("drop the vulnerability-id bucket: %w", err)
	}
	if err := dbc.DeleteVulnerabilityDetailBucket(); err != nil {
		return fmt.Errorf("drop the vulnerability-detail bucket: %w", err)
	}
	if err := dbc.DeleteAdvisoryDetailBucket(); err != nil {
		return fmt.Errorf("drop the advisory-detail bucket: %w", err)
	}
	return nil
}
