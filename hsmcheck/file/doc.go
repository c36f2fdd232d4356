// Package file is the inventory-file backend: keywarden-inventory.yaml (or JSON), the central
// key inventory the organisation keeps, which also serves air-gapped runs.
package file
