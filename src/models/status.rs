//! The lifecycle states of reservations, orders, payments and tickets, as
//! types: stored as today's strings (the columns' `CHECK`s list the same
//! values), compared and written through these enums only.

macro_rules! status {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every state.
            pub const ALL: &[Self] = &[$(Self::$variant),+];

            /// The stored text.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// The state a stored text names.
            #[must_use]
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// Whether a stored text is this state.
            #[must_use]
            pub fn is(self, text: &str) -> bool {
                self.as_str() == text
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<$name> for sea_orm::Value {
            fn from(status: $name) -> Self {
                status.as_str().into()
            }
        }

        impl From<$name> for String {
            fn from(status: $name) -> Self {
                status.as_str().to_string()
            }
        }
    };
}

status!(
    /// A hold on seats: `active` until booked (`ordered`), paid (`consumed`),
    /// given back (`released`) or timed out (`expired`).
    ReservationStatus {
        Active => "active",
        Ordered => "ordered",
        Consumed => "consumed",
        Released => "released",
        Expired => "expired",
    }
);

status!(
    /// An order: `pending` until paid, then possibly refunded; or ended unpaid.
    OrderStatus {
        Pending => "pending",
        Paid => "paid",
        PartiallyRefunded => "partially_refunded",
        Refunded => "refunded",
        Cancelled => "cancelled",
        Expired => "expired",
        Failed => "failed",
    }
);

status!(
    /// A Webpay payment attempt.
    PaymentStatus {
        Created => "created",
        Committing => "committing",
        Authorized => "authorized",
        Rejected => "rejected",
        Aborted => "aborted",
        Timeout => "timeout",
        Failed => "failed",
        Unknown => "unknown",
    }
);

status!(
    /// A ticket at the door.
    TicketStatus {
        Valid => "valid",
        Used => "used",
        Cancelled => "cancelled",
    }
);

impl ReservationStatus {
    /// Holding seats: held, or booked and not paid yet.
    pub const LIVE: [Self; 2] = [Self::Active, Self::Ordered];
}

impl OrderStatus {
    /// Money was taken (and not all of it given back).
    pub const PAID: [Self; 2] = [Self::Paid, Self::PartiallyRefunded];

    /// Whether a stored order status is paid (wholly or partly refunded still counts).
    #[must_use]
    pub fn is_paid(text: &str) -> bool {
        Self::PAID.iter().any(|s| s.is(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_text() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(*s));
        }
        for s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(*s));
        }
        for s in ReservationStatus::ALL {
            assert_eq!(ReservationStatus::parse(s.as_str()), Some(*s));
        }
        for s in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(s.as_str()), Some(*s));
        }
        assert!(OrderStatus::is_paid("partially_refunded") && !OrderStatus::is_paid("pending"));
        assert_eq!(OrderStatus::parse("nope"), None);
    }
}
