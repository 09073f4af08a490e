//! Decoding the line tables of code objects.
