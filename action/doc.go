// Package action is the logic of keywarden's GitHub Action (action.yml at the repository root):
// it picks the commits to scan from the workflow event, runs the keywarden CLI, writes SARIF,
// annotations, the job summary and step outputs, and decides the job's exit code.
package action
