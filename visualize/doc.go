// Package visualize will render the transitions table as Graphviz DOT and Mermaid
// state diagrams, and overlay an audit trace on them. It reads the table and never
// drives a session.
//
// The documentation issue builds it; until then the package holds only this
// description (see ../shared/DESIGN.md, "Rooms").
package visualize
