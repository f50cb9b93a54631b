//! Django's `numeric` amounts as whole pesos, and backtuki's order money
//! (fee and discount over the tickets and the fee) as this schema's (the
//! discount over the tickets only; `total = subtotal + service_fee`).

/// A decimal read exactly: `value` is the number times 10^digits, rounded
/// half-up (away from zero); `exact` when nothing was rounded away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scaled {
    pub value: i64,
    pub exact: bool,
}

/// Parses Django's text form of a `numeric` (`"10350.00"`, `"-5.5"`,
/// `"0.1500"`) scaled by 10^`digits`. `None` for anything else.
#[must_use]
pub fn scaled(text: &str, digits: u32) -> Option<Scaled> {
    let text = text.trim();
    let (negative, magnitude) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int_part, frac_part) = magnitude.split_once('.').unwrap_or((magnitude, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut value: i64 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().ok()?
    };
    let frac = frac_part.as_bytes();
    for i in 0..digits as usize {
        let digit = frac.get(i).map_or(0, |b| i64::from(b - b'0'));
        value = value.checked_mul(10)?.checked_add(digit)?;
    }
    let rest = frac.get(digits as usize..).unwrap_or_default();
    let exact = rest.iter().all(|b| *b == b'0');
    if rest.first().is_some_and(|b| *b >= b'5') {
        value = value.checked_add(1)?;
    }
    Some(Scaled {
        value: if negative { -value } else { value },
        exact,
    })
}

/// Whole pesos.
#[must_use]
pub fn pesos(text: &str) -> Option<Scaled> {
    scaled(text, 0)
}

/// A fee rate (`numeric(5,4)`, `0.1500`) in basis points (1500).
#[must_use]
pub fn basis_points(rate: &str) -> Option<i64> {
    scaled(rate, 4).map(|s| s.value)
}

/// One backtuki order's money, in pesos.
#[derive(Debug, Clone, Copy, Default)]
pub struct DjangoOrder {
    /// The tickets before the discount (Σ quantity × unit price).
    pub subtotal: i64,
    pub service_fee: i64,
    /// Taken off tickets and fee together.
    pub discount: i64,
    /// `subtotal + service_fee − discount`.
    pub total: i64,
    /// The organizer's and the platform's shares of `total`, when recorded.
    pub subtotal_effective: Option<i64>,
    pub service_fee_effective: Option<i64>,
    /// Σ quantity × unit price of the lines imported.
    pub lines: i64,
}

/// The same order in this schema's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OurOrder {
    /// The tickets after the discount: the organizer's share.
    pub subtotal: i64,
    /// The platform's share: `total − subtotal`.
    pub service_fee: i64,
    /// The listed price of the tickets less `subtotal`.
    pub discount: i64,
    pub total: i64,
}

/// Divides `a × b / c` rounding half-up, in 128 bits.
fn mul_div_round(a: i64, b: i64, c: i64) -> i64 {
    if c == 0 {
        return 0;
    }
    let (a, b, c) = (i128::from(a), i128::from(b), i128::from(c));
    let n = a * b;
    let q = (2 * n + c) / (2 * c);
    i64::try_from(q).unwrap_or(i64::MAX)
}

/// backtuki's order as ours: the organizer keeps the share Django computed
/// for it (`subtotal_effective`, else the tickets' share of the total), the
/// platform the rest, and the discount is what the tickets lost.
///
/// # Errors
/// The reason when the amounts do not add up or a result is negative.
pub fn split(order: &DjangoOrder) -> Result<OurOrder, String> {
    let d = order;
    if d.lines != d.subtotal {
        return Err(format!(
            "the lines add up to {} but the order's subtotal is {}",
            d.lines, d.subtotal
        ));
    }
    if let (Some(s), Some(f)) = (d.subtotal_effective, d.service_fee_effective) {
        if s + f != d.total {
            return Err(format!(
                "subtotal_effective {s} + service_fee_effective {f} is not the total {}",
                d.total
            ));
        }
    }
    let subtotal = match d.subtotal_effective {
        Some(s) => s,
        None if d.discount == 0 => d.subtotal,
        None => mul_div_round(d.subtotal, d.total, d.subtotal + d.service_fee),
    };
    let ours = OurOrder {
        subtotal,
        service_fee: d.total - subtotal,
        discount: d.subtotal - subtotal,
        total: d.total,
    };
    if ours.subtotal < 0 || ours.service_fee < 0 || ours.discount < 0 || ours.total < 0 {
        return Err(format!(
            "negative amounts (subtotal {}, service_fee {}, discount {}, total {})",
            ours.subtotal, ours.service_fee, ours.discount, ours.total
        ));
    }
    Ok(ours)
}

/// `amount` shared over `weights` in proportion, by largest remainder: the
/// shares add up to `amount` exactly and none exceeds its weight's share by
/// more than one peso (ties go to the earlier line).
#[must_use]
pub fn apportion(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if total <= 0 || weights.is_empty() {
        let mut shares = vec![0; weights.len()];
        if let Some(first) = shares.first_mut() {
            *first = amount;
        }
        return shares;
    }
    let amount128 = i128::from(amount);
    let mut shares: Vec<i64> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let n = amount128 * i128::from(*w);
        shares.push(i64::try_from(n / total).unwrap_or(0));
        remainders.push((n % total, i));
    }
    let mut left = amount - shares.iter().sum::<i64>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders {
        if left <= 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerics_become_pesos_exactly_or_rounded_half_up() {
        assert_eq!(
            pesos("10350.00"),
            Some(Scaled {
                value: 10350,
                exact: true
            })
        );
        assert_eq!(
            pesos("0"),
            Some(Scaled {
                value: 0,
                exact: true
            })
        );
        assert_eq!(
            pesos("99.50"),
            Some(Scaled {
                value: 100,
                exact: false
            })
        );
        assert_eq!(
            pesos("99.49"),
            Some(Scaled {
                value: 99,
                exact: false
            })
        );
        assert_eq!(
            pesos("-5.00"),
            Some(Scaled {
                value: -5,
                exact: true
            })
        );
        assert_eq!(pesos("abc"), None);
        assert_eq!(pesos(""), None);
        assert_eq!(basis_points("0.1500"), Some(1500));
        assert_eq!(basis_points("0.0850"), Some(850));
        assert_eq!(basis_points("1.5000"), Some(15000));
    }

    #[test]
    fn a_coupon_order_keeps_djangos_split_and_adds_up_here() {
        // backtuki's documented coupon order: 10 000 of tickets, 1 500 of fee,
        // 1 150 off both, 10 350 paid; the organizer's share was 9 000.
        let ours = split(&DjangoOrder {
            subtotal: 10_000,
            service_fee: 1_500,
            discount: 1_150,
            total: 10_350,
            subtotal_effective: Some(9_000),
            service_fee_effective: Some(1_350),
            lines: 10_000,
        })
        .unwrap();
        assert_eq!(
            ours,
            OurOrder {
                subtotal: 9_000,
                service_fee: 1_350,
                discount: 1_000,
                total: 10_350
            }
        );
        // Without the effective columns the same split is recomputed.
        let recomputed = split(&DjangoOrder {
            subtotal: 10_000,
            service_fee: 1_500,
            discount: 1_150,
            total: 10_350,
            subtotal_effective: None,
            service_fee_effective: None,
            lines: 10_000,
        })
        .unwrap();
        assert_eq!(recomputed, ours);
    }

    #[test]
    fn orders_that_do_not_add_up_are_refused() {
        let base = DjangoOrder {
            subtotal: 10_000,
            service_fee: 1_500,
            discount: 0,
            total: 11_500,
            subtotal_effective: None,
            service_fee_effective: None,
            lines: 10_000,
        };
        assert_eq!(
            split(&base).unwrap(),
            OurOrder {
                subtotal: 10_000,
                service_fee: 1_500,
                discount: 0,
                total: 11_500
            }
        );
        assert!(split(&DjangoOrder {
            lines: 9_000,
            ..base
        })
        .is_err());
        assert!(split(&DjangoOrder {
            total: 9_000,
            ..base
        })
        .is_err());
        assert!(split(&DjangoOrder {
            subtotal_effective: Some(10_000),
            service_fee_effective: Some(1_000),
            ..base
        })
        .is_err());
    }

    #[test]
    fn a_discount_is_shared_over_the_lines_to_the_peso() {
        assert_eq!(apportion(1_000, &[6_000, 4_000]), vec![600, 400]);
        assert_eq!(apportion(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(apportion(0, &[5, 5]), vec![0, 0]);
        let shares = apportion(1_001, &[3_333, 3_333, 3_334]);
        assert_eq!(shares.iter().sum::<i64>(), 1_001);
    }
}
