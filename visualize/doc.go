// Package visualize renders the transitions table as state graphs: Graphviz DOT and
// Mermaid stateDiagram-v2, with edges labelled by the events that take them and the
// codes that classify to those events, terminal states marked, and a stable order
// (numeric for codes). It reads the table and never drives a session, and it does
// not use looplab/fsm's Visualize, whose output encodes the current state and sorts
// "status-10" before "status-6".
//
// Given an audit log it also draws what happened: TraceDOT and TraceMermaid overlay
// the path taken (how often each edge was taken, the codes behind it, the waits
// chosen), and SequenceMermaid draws the client/server exchange of each session.
// SVG renders DOT through Graphviz's dot when it is installed.
package visualize
