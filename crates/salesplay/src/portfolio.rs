//! Portfolios: many accounts at once, as a funnel (being written).
