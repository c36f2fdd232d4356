package awskms

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/keywarden/keywarden/hsmcheck"
)

// Config configures one KMS region. Credentials are not part of it: they come from the SDK's
// default chain.
type Config struct {
	Region   string // "eu-west-1"; "" = the SDK's default (AWS_REGION, the profile's region)
	Endpoint string // base URL of a KMS-compatible endpoint (LocalStack, local-kms); "" = AWS
	Profile  string // shared config profile; "" = AWS_PROFILE or "default"
	Scope    string // every key's scope; "" = the scope tag, else the region
	ScopeTag string // tag whose value is a key's scope; "" = Environment, environment, env, Env
	Name     string // display name; "" = "aws-kms:REGION"
}

// DefaultScopeTags are the tags read for a key's scope, in order, when Config.ScopeTag is
// empty. Tag keys are case-sensitive in AWS, hence the spellings.
var DefaultScopeTags = []string{"Environment", "environment", "env", "Env"}

// Inventory is one KMS region's keys. It holds no resources beyond an HTTP client.
type Inventory struct {
	client    *kms.Client
	creds     aws.CredentialsProvider
	region    string
	name      string
	scope     string
	scopeTags []string
}

var (
	_ hsmcheck.Inventory  = (*Inventory)(nil)
	_ hsmcheck.Challenger = (*Inventory)(nil)
)

// regionRE is what an AWS region name looks like; anything else is a typo or an injection
// into the endpoint host name.
var regionRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// New loads the SDK's default configuration for c and returns the region's inventory. It makes
// no request: credentials are resolved on the first Keys call.
func New(ctx context.Context, c Config) (*Inventory, error) {
	if c.Region != "" && !regionRE.MatchString(c.Region) {
		return nil, fmt.Errorf("configuring aws kms: %w: region %q is not a region name", hsmcheck.ErrConfig, c.Region)
	}
	if c.Endpoint != "" {
		if _, err := endpointHost(c.Endpoint); err != nil {
			return nil, fmt.Errorf("configuring aws kms: %w: %w", hsmcheck.ErrConfig, err)
		}
	}
	var opts []func(*config.LoadOptions) error
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading aws configuration: %w: %w", hsmcheck.ErrConfig, err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("configuring aws kms: %w: no region: give awskms://REGION or set AWS_REGION", hsmcheck.ErrConfig)
	}
	if !regionRE.MatchString(cfg.Region) {
		return nil, fmt.Errorf("configuring aws kms: %w: region %q is not a region name", hsmcheck.ErrConfig, cfg.Region)
	}
	client := kms.NewFromConfig(cfg, func(o *kms.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
	})
	name := "aws-kms:" + cfg.Region
	// The endpoint may also come from AWS_ENDPOINT_URL(_KMS) or the profile; name it either way.
	if ep := client.Options().BaseEndpoint; ep != nil {
		if host, err := endpointHost(*ep); err == nil {
			name += "@" + host
		}
	}
	if c.Name != "" {
		name = c.Name
	}
	tags := DefaultScopeTags
	if c.ScopeTag != "" {
		tags = []string{c.ScopeTag}
	}
	return &Inventory{client: client, creds: cfg.Credentials, region: cfg.Region, name: name, scope: c.Scope, scopeTags: tags}, nil
}

// endpointHost checks a custom endpoint and returns its host.
func endpointHost(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("endpoint is not an http(s) URL")
	}
	if u.User != nil {
		return "", fmt.Errorf("endpoint must not carry credentials")
	}
	return u.Host, nil
}

// redacted is s's URI for messages. hsmcheck.Spec.Redacted keeps the values of params other
// backends find harmless (token, key, endpoint), which here could be a session token or an
// endpoint with user info, so only values known to be plain here are kept.
func redacted(s hsmcheck.Spec) string {
	if s.URL == nil {
		return s.Scheme() + ":"
	}
	u := *s.URL
	u.User = nil
	q := u.Query()
	for k, vs := range q {
		switch k {
		case "endpoint":
			for i, v := range vs {
				if _, err := endpointHost(v); err != nil {
					vs[i] = "…"
				}
			}
		case "profile", "scope", "scope-tag", "name", "region":
		default:
			q[k] = []string{"…"}
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// params are the query parameters and table keys Open understands; others are refused so that
// a misspelt one is not silently ignored.
var params = map[string]bool{"endpoint": true, "profile": true, "scope-tag": true, "scope": true, "name": true, "region": true}

// Open opens awskms://REGION?endpoint=URL&profile=NAME&scope-tag=TAG&scope=S. The region may also
// come from a region param (an inventory table) or from the SDK's default.
func Open(ctx context.Context, s hsmcheck.Spec) (hsmcheck.Inventory, error) {
	if s.Scheme() != "awskms" {
		return nil, fmt.Errorf("opening %q: %w: not an awskms: URI", redacted(s), hsmcheck.ErrConfig)
	}
	if err := s.Forbid("access-key", "access-key-id", "secret-key", "secret-access-key", "session-token"); err != nil {
		return nil, err
	}
	if s.Params.Has("token") { // Forbid's message would show it: Spec.Redacted keeps token values
		return nil, fmt.Errorf("inventory %q: %w: \"token\" would put a credential on the command line; use AWS_SESSION_TOKEN or a profile", redacted(s), hsmcheck.ErrConfig)
	}
	if s.URL != nil && s.URL.User != nil {
		return nil, fmt.Errorf("inventory %q: %w: credentials in the URI; use the AWS environment variables or a profile", redacted(s), hsmcheck.ErrConfig)
	}
	for p := range s.Params {
		if !params[p] {
			return nil, fmt.Errorf("inventory %q: %w: unknown parameter %q, want endpoint, profile, scope-tag, scope, name or region", redacted(s), hsmcheck.ErrConfig, p)
		}
	}
	var region string
	switch {
	case s.URL == nil:
	case s.URL.Opaque != "": // awskms:REGION
		region = s.URL.Opaque
	default: // awskms://REGION
		region = s.URL.Host
		if strings.Trim(s.URL.Path, "/") != "" {
			return nil, fmt.Errorf("inventory %q: %w: want awskms://REGION with no path", redacted(s), hsmcheck.ErrConfig)
		}
	}
	if r := s.Params.Get("region"); r != "" {
		if region != "" && region != r {
			return nil, fmt.Errorf("inventory %q: %w: region %q in the URI and %q in region=", redacted(s), hsmcheck.ErrConfig, region, r)
		}
		region = r
	}
	inv, err := New(ctx, Config{
		Region:   region,
		Endpoint: s.Params.Get("endpoint"),
		Profile:  s.Params.Get("profile"),
		Scope:    s.Scope,
		ScopeTag: s.Params.Get("scope-tag"),
		Name:     s.Name,
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// Name returns "aws-kms:REGION", with "@HOST" for a custom endpoint, unless Config.Name is set.
func (inv *Inventory) Name() string { return inv.name }
