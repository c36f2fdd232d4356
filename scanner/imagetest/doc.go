// Package imagetest builds container images inside tests (layers, configs, indexes) and writes
// them where image references point: docker-archive tarballs, OCI layouts, and a real
// docker-registry process started per test. Builds are deterministic: the same files and
// options give the same digests from run to run.
package imagetest
