//! Native symbolization.
