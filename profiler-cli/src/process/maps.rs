//! Parsing /proc/PID/maps.
