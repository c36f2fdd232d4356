package all

import (
	"github.com/keywarden/keywarden/hsmcheck"
)

// Options are the inventory settings a command takes besides the config file.
type Options struct {
	ConfigPath  string   // keywarden config whose [[inventory]] tables to use; "" for none
	URIs        []string // --inventory flags, checked in addition to the config's
	KMSEndpoint string   // --kms-endpoint: the endpoint of awskms inventories that name none
}

// Specs gathers the inventories a command checks, and the audit policy of the config file.
func Specs(o Options) ([]hsmcheck.Spec, hsmcheck.Policy, error) {
	cfg, err := hsmcheck.LoadConfig(o.ConfigPath)
	if err != nil {
		return nil, hsmcheck.Policy{}, err
	}
	specs := cfg.Specs
	for _, u := range o.URIs {
		s, err := hsmcheck.ParseSpec(u)
		if err != nil {
			return nil, hsmcheck.Policy{}, err
		}
		specs = append(specs, s)
	}
	if o.KMSEndpoint != "" {
		for i := range specs {
			if specs[i].Scheme() == "awskms" && specs[i].Params.Get("endpoint") == "" {
				specs[i].Params.Set("endpoint", o.KMSEndpoint)
			}
		}
	}
	return specs, cfg.Policy, nil
}
