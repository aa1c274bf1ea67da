//! Journeys: an account's recorded path through one playbook version (being written).
