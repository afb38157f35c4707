//! The isolate's side of a lease: a small grant from a pool, spent
//! locally without a round trip, then given back.
//!
//! Invariant: a lease admits at most its amount, and nothing once its
//! expiry has come by the isolate's clock. Giving it back consumes it
//! ([`Lease::give_back`]), so nothing is spent from a lease after its
//! return was written. Only a [`Pool`](super::Pool) makes leases.

/// A pool's grant, held by one isolate.
#[derive(Debug, PartialEq, Eq)]
pub struct Lease {
    id: u64,
    amount: u64,
    spent: u64,
    expires_at: i64,
}

/// What a lease says to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// Admitted: its cost is spent from the lease.
    Admit,
    /// The lease cannot cover it (too little left, or expired): give the
    /// lease back and ask the pool, in one round trip.
    Renew,
}

/// A lease given back: what the pool settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Return {
    /// The lease's id in its pool.
    pub id: u64,
    /// Cost units spent from it.
    pub spent: u64,
}

impl Lease {
    pub(super) fn new(id: u64, amount: u64, expires_at: i64) -> Self {
        Lease {
            id,
            amount,
            spent: 0,
            expires_at,
        }
    }

    /// Spends `cost` at `now` (the isolate's clock, Unix milliseconds) if
    /// the lease is live and covers it.
    pub fn spend(&mut self, cost: u64, now: i64) -> Spend {
        if now >= self.expires_at || cost > self.left() {
            return Spend::Renew;
        }
        self.spent += cost;
        Spend::Admit
    }

    /// Cost units still to spend.
    pub fn left(&self) -> u64 {
        self.amount.saturating_sub(self.spent)
    }

    /// Cost units spent so far.
    pub fn spent(&self) -> u64 {
        self.spent
    }

    /// What the pool granted.
    pub fn amount(&self) -> u64 {
        self.amount
    }

    /// When it stops admitting (Unix milliseconds, exclusive).
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// Its id in its pool.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Ends the lease, for the pool to settle.
    pub fn give_back(self) -> Return {
        Return {
            id: self.id,
            spent: self.spent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spends_at_most_its_amount_until_expiry() {
        let mut lease = Lease::new(7, 5, 1_000);
        assert_eq!(lease.spend(3, 0), Spend::Admit);
        assert_eq!(lease.spend(3, 1), Spend::Renew);
        assert_eq!(lease.spend(2, 999), Spend::Admit);
        assert_eq!(lease.left(), 0);
        assert_eq!(lease.spend(0, 999), Spend::Admit);
        assert_eq!(lease.spend(0, 1_000), Spend::Renew);
        assert_eq!(lease.give_back(), Return { id: 7, spent: 5 });
    }
}
