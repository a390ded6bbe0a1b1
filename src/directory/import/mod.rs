//! Importers: SIECLE, STS-web and CSV files into a [`Snapshot`] of the
//! establishment, then the diff against the directory.
