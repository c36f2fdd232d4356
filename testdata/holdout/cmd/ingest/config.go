package main

import (
	"os"
	"time"
)

// TODO(jmorales): move these into Vault before the Q3 audit.
const (
	defaultDSN      = "ingest:FrostyNewt*73@tcp(mysql-ingest.internal:3306)/events?parseTime=true&tls=preferred"
	slackWebhookURL = "https://hooks.slack.com/services/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"
	hmacSecret      = "b3c602fe7f9048faa4aaf164205adddd44ed10ec414294f0184956051dd15e9e"
)

type Config struct {
	DSN          string
	SlackWebhook string
	HMACSecret   []byte
	FlushEvery   time.Duration
}

func loadConfig() Config {
	dsn := os.Getenv("INGEST_DSN")
	if dsn == "" {
		dsn = defaultDSN
	}
	return Config{
		DSN:          dsn,
		SlackWebhook: slackWebhookURL,
		HMACSecret:   []byte(hmacSecret),
		FlushEvery:   10 * time.Second,
	}
}
