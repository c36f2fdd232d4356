package scanner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// ErrRemoteAuth marks a remote that could not be read for want of working credentials: none
// were found, they were refused, or no SSH agent holds a usable key. Callers can tell it from
// a missing or broken repository with errors.Is.
var ErrRemoteAuth = errors.New("remote authentication failed")

// credentialTimeout bounds `git credential fill`: a helper that waits for a login window or a
// network that never answers must not stall an audit.
var credentialTimeout = 15 * time.Second

// credSource names where credentials came from, for messages that say which one to fix.
type credSource string

const (
	fromURL    credSource = "the URL"
	fromHelper credSource = "the git credential helper"
)

// credential is a user name and password (or token) for HTTP Basic auth.
type credential struct {
	user, pass string
	source     credSource
}

// remoteTarget is a repository address split into what go-git is given and what messages show.
type remoteTarget struct {
	raw     string   // as the caller gave it
	url     string   // what go-git is given: an http(s) URL loses its user information
	display string   // for messages: RedactURL(raw)
	kind    string   // "http", "ssh" or "" (file, git://, local path: no credentials)
	u       *url.URL // parsed http(s) URL, nil otherwise
	urlCred *credential
	urlUser string              // user name of an http(s) URL that has no password
	ep      *transport.Endpoint // ssh only
}

// parseRemote classifies rawURL. The user information of an http(s) URL is moved out of the
// URL into Basic auth, so that a token is never written into the mirror's config.
func parseRemote(rawURL string) *remoteTarget {
	t := &remoteTarget{raw: rawURL, url: rawURL, display: RedactURL(rawURL)}
	if u, err := url.Parse(rawURL); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		t.kind, t.u = "http", u
		if u.User != nil {
			name := u.User.Username()
			if pass, ok := u.User.Password(); ok && pass != "" {
				t.urlCred = &credential{user: name, pass: pass, source: fromURL}
			} else {
				t.urlUser = name
			}
			clean := *u
			clean.User = nil
			t.url = clean.String()
		}
		return t
	}
	if ep, err := transport.NewEndpoint(rawURL); err == nil && ep.Protocol == "ssh" {
		t.kind, t.ep = "ssh", ep
	}
	return t
}

// withAuth runs op, which talks to the remote once with the auth it is given, the way git
// does: an http(s) remote is tried anonymously and, when it asks for credentials, once more
// with the first credentials found (URL, credential helper, GITHUB_TOKEN/GH_TOKEN); an ssh
// remote uses the SSH agent. The error says what to do next and holds no secret.
func (t *remoteTarget) withAuth(ctx context.Context, op func(transport.AuthMethod) error) error {
	switch t.kind {
	case "http":
		return t.withHTTPAuth(ctx, op)
	case "ssh":
		return t.withSSHAuth(ctx, op)
	}
	err := op(nil)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return t.scrub(err)
}

func (t *remoteTarget) withHTTPAuth(ctx context.Context, op func(transport.AuthMethod) error) error {
	if t.urlCred != nil {
		return t.explainHTTP(ctx, op(basicAuth(t.urlCred)), t.urlCred)
	}
	err := op(nil)
	if err == nil || ctx.Err() != nil || !needsCredentials(err) {
		return t.explainHTTP(ctx, err, nil)
	}
	cred := t.resolveCredential(ctx)
	if cred == nil {
		hint := "set one, or check access to the repository"
		if githubToken() != "" {
			hint = "GITHUB_TOKEN is set but is only sent to github.com and the host of GITHUB_SERVER_URL over https; " + hint
		}
		return &remoteError{
			msg:  "authentication required: no credentials from the URL, git credential helper or GITHUB_TOKEN (" + hint + ")",
			errs: []error{ErrRemoteAuth, transport.ErrAuthenticationRequired},
		}
	}
	return t.explainHTTP(ctx, op(basicAuth(cred)), cred)
}

// needsCredentials reports whether an anonymous attempt failed for want of credentials. A 403
// counts too: some servers refuse anonymous readers with it rather than with a 401.
func needsCredentials(err error) bool {
	return errors.Is(err, transport.ErrAuthenticationRequired) || errors.Is(err, transport.ErrAuthorizationFailed)
}

func basicAuth(c *credential) transport.AuthMethod {
	return &githttp.BasicAuth{Username: c.user, Password: c.pass}
}

// explainHTTP turns go-git's answer into a one-line message; cred is what was sent, if any.
func (t *remoteTarget) explainHTTP(ctx context.Context, err error, cred *credential) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var who string
	if cred != nil {
		who = string(cred.source)
	}
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired) && cred != nil:
		return &remoteError{
			msg:  "authentication failed: the credentials from " + who + " were refused (" + fixHint(cred.source) + ")",
			errs: []error{ErrRemoteAuth, transport.ErrAuthenticationRequired},
		}
	case errors.Is(err, transport.ErrAuthorizationFailed) && cred != nil:
		return &remoteError{
			msg:  "access denied: the credentials from " + who + " cannot read this repository (check the token's scopes or the repository's permissions)",
			errs: []error{ErrRemoteAuth, transport.ErrAuthorizationFailed},
		}
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return &remoteError{
			msg:  "repository not found (check the URL, and that your credentials can see the repository)",
			errs: []error{transport.ErrRepositoryNotFound},
		}
	}
	return t.scrub(err, cred)
}

// fixHint says how to repair refused credentials from source.
func fixHint(source credSource) string {
	switch source {
	case fromURL:
		return "fix the user name or token in the URL"
	case fromHelper:
		return "update them in your credential store, or check access to the repository"
	}
	return "check that " + string(source) + " is valid and can read the repository"
}

// resolveCredential returns the first credentials found for an http(s) remote that asked for
// them: the git credential helper, then GITHUB_TOKEN or GH_TOKEN for GitHub hosts.
func (t *remoteTarget) resolveCredential(ctx context.Context) *credential {
	if c := credentialFill(ctx, t.u, t.urlUser); c != nil {
		return c
	}
	if isGitHubHost(t.u) {
		for _, name := range []string{"GITHUB_TOKEN", "GH_TOKEN"} {
			if tok := os.Getenv(name); tok != "" {
				return &credential{user: "x-access-token", pass: tok, source: credSource(name)}
			}
		}
	}
	return nil
}

func githubToken() string {
	if tok := os.Getenv("GITHUB_TOKEN"); tok != "" {
		return tok
	}
	return os.Getenv("GH_TOKEN")
}

// isGitHubHost reports whether a GitHub token may be sent to u: only over https, and only to
// github.com or the server GITHUB_SERVER_URL names (GitHub Enterprise Server, Actions), port
// included, so that a token never reaches a host the user did not name.
func isGitHubHost(u *url.URL) bool {
	if u == nil || u.Scheme != "https" {
		return false
	}
	host := hostPort(u)
	if host == "github.com:443" {
		return true
	}
	server := os.Getenv("GITHUB_SERVER_URL")
	if server == "" {
		return false
	}
	s, err := url.Parse(server)
	if err != nil || s.Host == "" {
		return false
	}
	return host == hostPort(s)
}

// hostPort returns u's lower-case host with an explicit port (443 for https, 80 for http).
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// credentialFill asks git's configured credential helpers for u (protocol, host and path, as
// git would) and returns what they know, or nil. It never prompts: terminal prompts and
// askpass programs are disabled, so with no helper or no match git exits at once. It never
// calls approve or reject: keywarden does not change the user's credential store.
func credentialFill(ctx context.Context, u *url.URL, user string) *credential {
	fields := [][2]string{
		{"protocol", u.Scheme},
		{"host", u.Host},
		{"path", strings.TrimPrefix(u.Path, "/")},
	}
	if user != "" {
		fields = append(fields, [2]string{"username", user})
	}
	var req strings.Builder
	for _, f := range fields {
		// git rejects these, and a newline would let a crafted URL add attributes.
		if strings.ContainsAny(f[1], "\n\x00") {
			return nil
		}
		req.WriteString(f[0] + "=" + f[1] + "\n")
	}
	req.WriteString("\n")

	ctx, cancel := context.WithTimeout(ctx, credentialTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "credential", "fill")
	cmd.Stdin = strings.NewReader(req.String())
	cmd.Env = credentialEnv()
	// Outside any repository, so a scanned repository's own config cannot pick the helper.
	cmd.Dir = os.TempDir()
	cmd.WaitDelay = time.Second
	out, err := cmd.Output()
	if err != nil {
		return nil
	}
	c := &credential{source: fromHelper}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		key, value, _ := strings.Cut(sc.Text(), "=")
		switch key {
		case "username":
			c.user = value
		case "password":
			c.pass = value
		}
	}
	if c.pass == "" {
		return nil
	}
	return c
}

// credentialEnv is the environment for `git credential fill`: no terminal prompt, no askpass
// program (an empty GIT_ASKPASS also hides core.askPass and SSH_ASKPASS), no interactive
// Git Credential Manager, and no repository from the caller's environment.
func credentialEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "GIT_TERMINAL_PROMPT", "GIT_ASKPASS", "SSH_ASKPASS", "GCM_INTERACTIVE",
			"GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_INDEX_FILE":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "GCM_INTERACTIVE=never")
}

// withSSHAuth runs op with the SSH agent's keys, as the URL's user (default "git"), with host
// keys checked against known_hosts (SSH_KNOWN_HOSTS, else ~/.ssh/known_hosts and
// /etc/ssh/ssh_known_hosts).
func (t *remoteTarget) withSSHAuth(ctx context.Context, op func(transport.AuthMethod) error) error {
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return &remoteError{
			msg:  "no SSH agent: start ssh-agent and ssh-add your key, or use an https URL",
			errs: []error{ErrRemoteAuth},
		}
	}
	conn, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		return &remoteError{
			msg:  fmt.Sprintf("no SSH agent at SSH_AUTH_SOCK %q: start ssh-agent and ssh-add your key, or use an https URL", sock),
			errs: []error{ErrRemoteAuth},
		}
	}
	defer conn.Close()
	// go-git's ssh dial ignores ctx; closing the agent connection at least ends a wait on it.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	ag := agent.NewClient(conn)
	if keys, err := ag.List(); err != nil || len(keys) == 0 {
		return &remoteError{
			msg:  "the SSH agent holds no keys: ssh-add your key, or use an https URL",
			errs: []error{ErrRemoteAuth},
		}
	}
	files := knownHostsFiles()
	if len(files) == 0 {
		return errors.New("no known_hosts file to check the host key against (add the host's key to ~/.ssh/known_hosts, or name a file in SSH_KNOWN_HOSTS)")
	}
	db, err := gitssh.NewKnownHostsDb(files...)
	if err != nil {
		return fmt.Errorf("reading known_hosts: %w", err)
	}
	user := t.ep.User
	if user == "" {
		user = gitssh.DefaultUsername
	}
	port := t.ep.Port
	if port <= 0 {
		port = gitssh.DefaultPort
	}
	addr := net.JoinHostPort(t.ep.Host, strconv.Itoa(port))
	auth := &gitssh.PublicKeysCallback{
		User:     user,
		Callback: ag.Signers,
		HostKeyCallbackHelper: gitssh.HostKeyCallbackHelper{
			HostKeyCallback: db.HostKeyCallback(),
			// Offer first the key types known_hosts has for this host, or the server may
			// present another type and fail a check it would pass.
			HostKeyAlgorithms: db.HostKeyAlgorithms(addr),
		},
	}
	return t.explainSSH(ctx, op(auth), user, addr)
}

// knownHostsFiles returns the known_hosts files that exist, from the list go-git reads:
// SSH_KNOWN_HOSTS (a path list), else ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts.
func knownHostsFiles() []string {
	candidates := filepath.SplitList(os.Getenv("SSH_KNOWN_HOSTS"))
	if len(candidates) == 0 {
		if home, err := os.UserHomeDir(); err == nil {
			candidates = append(candidates, filepath.Join(home, ".ssh", "known_hosts"))
		}
		candidates = append(candidates, "/etc/ssh/ssh_known_hosts")
	}
	var files []string
	for _, f := range candidates {
		if _, err := os.Stat(f); err == nil {
			files = append(files, f)
		}
	}
	return files
}

func (t *remoteTarget) explainSSH(ctx context.Context, err error, user, addr string) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var keyErr *knownhosts.KeyError
	var revoked *knownhosts.RevokedError
	switch {
	case errors.As(err, &keyErr) && len(keyErr.Want) == 0:
		return &remoteError{
			msg:  fmt.Sprintf("verifying host key of %s: host key is unknown (check its fingerprint with the host's owner, then add it to ~/.ssh/known_hosts or a file named in SSH_KNOWN_HOSTS)", addr),
			errs: []error{keyErr},
		}
	case errors.As(err, &keyErr):
		return &remoteError{
			msg:  fmt.Sprintf("verifying host key of %s: host key does not match known_hosts (the key changed or the connection is intercepted; confirm with the host's owner before updating known_hosts)", addr),
			errs: []error{keyErr},
		}
	case errors.As(err, &revoked):
		return &remoteError{
			msg:  fmt.Sprintf("verifying host key of %s: host key is revoked in known_hosts (do not connect; ask the host's owner)", addr),
			errs: []error{revoked},
		}
	case strings.Contains(err.Error(), "unable to authenticate"):
		return &remoteError{
			msg:  fmt.Sprintf("authentication failed: the server refused every key in the SSH agent for user %q (ssh-add the key registered with the host, or check access to the repository)", user),
			errs: []error{ErrRemoteAuth},
		}
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return &remoteError{
			msg:  "repository not found (check the URL, and that your key can see the repository)",
			errs: []error{transport.ErrRepositoryNotFound},
		}
	}
	return t.scrub(err)
}

// scrub removes the URL's user information and any credentials sent from err's message.
func (t *remoteTarget) scrub(err error, sent ...*credential) error {
	if err == nil {
		return nil
	}
	err = scrubURL(err, t.raw)
	msg := err.Error()
	changed := false
	for _, c := range sent {
		if c == nil {
			continue
		}
		// A user name is scrubbed only when long enough to be a token itself: scrubbing
		// "git" would mangle the message.
		for i, s := range []string{c.pass, c.user} {
			if s != "" && (i == 0 || len(s) >= 8) && strings.Contains(msg, s) {
				msg = strings.ReplaceAll(msg, s, "***")
				changed = true
			}
		}
	}
	if changed {
		return errors.New(msg)
	}
	return err
}

// remoteError is a finished one-line message that still matches its causes with errors.Is.
// It keeps only sentinels, not go-git's error, whose text may hold a server's reply.
type remoteError struct {
	msg  string
	errs []error
}

func (e *remoteError) Error() string   { return e.msg }
func (e *remoteError) Unwrap() []error { return e.errs }
