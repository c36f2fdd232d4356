package scanner

// RepoStatus is one repository of a multi-repo audit: what its scan did, or why it failed.
type RepoStatus struct {
	Repo       string `json:"repo"`             // as listed, credentials removed
	Status     string `json:"status"`           // "ok" or "failed"
	Phase      string `json:"phase,omitempty"`  // where a failed repo stopped: clone, fetch, open, scan
	Error      string `json:"error,omitempty"`  // one line, credentials removed
	Cached     bool   `json:"cached,omitempty"` // updated by fetch, not cloned
	Blobs      int64  `json:"blobs"`
	Bytes      int64  `json:"bytes"`
	Commits    int64  `json:"commits"`
	Findings   int    `json:"findings"`
	DurationMS int64  `json:"duration_ms"`
}

// Repo status values.
const (
	RepoOK     = "ok"
	RepoFailed = "failed"
)

// Phases a scan or an audited repository goes through, for progress displays.
const (
	PhaseQueued    = "queued"
	PhaseClone     = "clone"     // cloning into the audit's cache
	PhaseFetch     = "fetch"     // updating a cached mirror
	PhaseEnumerate = "enumerate" // walking history or listing files
	PhaseScan      = "scan"      // reading and detecting
	PhaseDone      = "done"
	PhaseFailed    = "failed"
)

// Progress is a progress event: where a scan is and what it has done. Repo is set in audits.
type Progress struct {
	Repo  string
	Phase string
	Stats Stats
	// CommitsDone of CommitsTotal have had their blobs read, when the source knows (git):
	// the basis of an ETA. Zero totals mean unknown.
	CommitsDone, CommitsTotal int64
}
