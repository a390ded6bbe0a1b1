//! Grades and averages, exact.
//!
//! Quantities are entered with at most two decimals and kept as integers
//! in hundredths (a mark of 12.5 is 1250, a coefficient of 0.5 is 50);
//! averages are exact rationals (big integers), rounded once, when shown
//! ([`round`]). THE RULE, documented here and in docs/viescolaire.md:
//!
//! 1. Each mark is brought to /20: `20 × mark / out_of`.
//! 2. Special values: **ABS** (absent), **DISP** (exempt) and **NN** (not
//!    graded) are left out of the average (neither points nor
//!    coefficient); **NR** (not handed in) counts as 0.
//! 3. A subject average is `Σ cᵢ·vᵢ / Σ cᵢ` over the evaluations that
//!    *count* (coefficient cᵢ, mark vᵢ on /20); coefficient 0 is shown
//!    and never counted.
//! 4. An **optional** evaluation counts only when it raises the average:
//!    optional marks are tried best first and each is kept while it
//!    raises the average (this gives the highest average any choice of
//!    them could; an optional mark never lowers an average).
//! 5. A **bonus** evaluation adds only its points above the middle of its
//!    scale: `Σ cᵦ·max(0, vᵦ − 10) / Σ cᵢ` is added to the average, the
//!    divisor being the coefficients of the evaluations that count (not
//!    the optional ones, so the bonus does not depend on which optional
//!    marks are kept); the result is capped at 20. Without a counted
//!    evaluation a bonus adds nothing (a bonus alone makes no average).
//! 6. No counted mark: no average (shown as empty, never as 0).
//! 7. The overall average is `Σ Kₛ·averageₛ / Σ Kₛ` over the subjects that
//!    have an average, Kₛ the student's own coefficient for the subject
//!    when set, else the class's, else 1; subject averages enter it
//!    exact, not rounded.
//! 8. A class average is the mean of its students' averages; minimum and
//!    maximum are theirs.
//! 9. Rounding, once, when shown: to the hundredth, tenth, half point or
//!    whole point, to the nearest (a half rounds up) or up.

use super::settings::{RoundingMode, RoundingStep};
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, Zero};
use serde::Serialize;
use std::cmp::Ordering;
use std::fmt;

/// An exact non-negative rational.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Q {
    num: BigInt,
    den: BigInt,
}

impl Q {
    pub fn new(num: impl Into<BigInt>, den: impl Into<BigInt>) -> Q {
        let (mut num, mut den) = (num.into(), den.into());
        assert!(!den.is_zero(), "a rational with a zero denominator");
        if den.is_negative() {
            num = -num;
            den = -den;
        }
        let g = num.gcd(&den);
        if !g.is_zero() && g != BigInt::from(1) {
            num /= &g;
            den /= &g;
        }
        Q { num, den }
    }

    pub fn int(n: i64) -> Q {
        Q::new(n, 1)
    }

    pub fn add(&self, o: &Q) -> Q {
        Q::new(&self.num * &o.den + &o.num * &self.den, &self.den * &o.den)
    }

    pub fn sub(&self, o: &Q) -> Q {
        Q::new(&self.num * &o.den - &o.num * &self.den, &self.den * &o.den)
    }

    pub fn mul(&self, o: &Q) -> Q {
        Q::new(&self.num * &o.num, &self.den * &o.den)
    }

    /// `self / o`; None when `o` is zero.
    pub fn div(&self, o: &Q) -> Option<Q> {
        (!o.num.is_zero()).then(|| Q::new(&self.num * &o.den, &self.den * &o.num))
    }

    pub fn is_zero(&self) -> bool {
        self.num.is_zero()
    }

    /// An approximation, for property tests and charts only.
    pub fn to_f64(&self) -> f64 {
        use num_traits::ToPrimitive;
        self.num.to_f64().unwrap_or(f64::NAN) / self.den.to_f64().unwrap_or(f64::NAN)
    }
}

impl PartialOrd for Q {
    fn partial_cmp(&self, o: &Q) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Q {
    fn cmp(&self, o: &Q) -> Ordering {
        (&self.num * &o.den).cmp(&(&o.num * &self.den))
    }
}

/// A mark as entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Mark {
    /// Points, in hundredths, on the evaluation's scale.
    Value(u32),
    /// Absent: left out.
    Abs,
    /// Exempt: left out.
    Disp,
    /// Not graded: left out.
    Nn,
    /// Not handed in: counts as 0.
    Nr,
}

impl Mark {
    /// Parses "12", "12,5", "12.25", "ABS", "DISP", "NN", "NR" (any
    /// case); the value may not exceed `out_of` (hundredths).
    pub fn parse(s: &str, out_of: u32) -> Result<Mark, String> {
        let t = s.trim();
        match t.to_ascii_uppercase().as_str() {
            "ABS" => return Ok(Mark::Abs),
            "DISP" => return Ok(Mark::Disp),
            "NN" => return Ok(Mark::Nn),
            "NR" => return Ok(Mark::Nr),
            _ => {}
        }
        let v = parse_hundredths(t).ok_or_else(|| {
            format!("\"{t}\" is not a mark: write a number (two decimals at most) or ABS, DISP, NN, NR")
        })?;
        if v > out_of {
            return Err(format!(
                "{t} is above the scale (out of {})",
                show_hundredths(out_of)
            ));
        }
        Ok(Mark::Value(v))
    }

    /// The stored form: (value, special).
    pub fn to_columns(self) -> (Option<u32>, Option<&'static str>) {
        match self {
            Mark::Value(v) => (Some(v), None),
            Mark::Abs => (None, Some("ABS")),
            Mark::Disp => (None, Some("DISP")),
            Mark::Nn => (None, Some("NN")),
            Mark::Nr => (None, Some("NR")),
        }
    }

    pub fn from_columns(value: Option<i64>, special: Option<&str>) -> Option<Mark> {
        match (value, special) {
            (Some(v), None) => u32::try_from(v).ok().map(Mark::Value),
            (None, Some("ABS")) => Some(Mark::Abs),
            (None, Some("DISP")) => Some(Mark::Disp),
            (None, Some("NN")) => Some(Mark::Nn),
            (None, Some("NR")) => Some(Mark::Nr),
            _ => None,
        }
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mark::Value(v) => f.write_str(&show_hundredths(*v)),
            Mark::Abs => f.write_str("ABS"),
            Mark::Disp => f.write_str("DISP"),
            Mark::Nn => f.write_str("NN"),
            Mark::Nr => f.write_str("NR"),
        }
    }
}

/// "12", "12,5", "0.25" → hundredths; at most two decimals, no sign.
pub fn parse_hundredths(s: &str) -> Option<u32> {
    let s = s.trim().replace(',', ".");
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    if int.is_empty() && frac.is_empty() || frac.len() > 2 || int.len() > 7 {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let i: u32 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let f: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    i.checked_mul(100)?.checked_add(f)
}

/// 1250 → "12.5", 1200 → "12", 1205 → "12.05".
pub fn show_hundredths(v: u32) -> String {
    let (i, f) = (v / 100, v % 100);
    match f {
        0 => i.to_string(),
        f if f % 10 == 0 => format!("{i}.{}", f / 10),
        f => format!("{i}.{f:02}"),
    }
}

/// How an evaluation enters the average.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EvalKind {
    Counts,
    Optional,
    Bonus,
}

impl EvalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EvalKind::Counts => "counts",
            EvalKind::Optional => "optional",
            EvalKind::Bonus => "bonus",
        }
    }

    pub fn parse(s: &str) -> Option<EvalKind> {
        Some(match s {
            "counts" => EvalKind::Counts,
            "optional" => EvalKind::Optional,
            "bonus" => EvalKind::Bonus,
            _ => return None,
        })
    }
}

/// One mark of a student with what the average needs of its evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Graded {
    /// Hundredths, 0–9900.
    pub coefficient: u32,
    /// Hundredths, > 0.
    pub out_of: u32,
    pub kind: EvalKind,
    pub mark: Mark,
}

impl Graded {
    /// The mark on /20, when it enters an average (NR is 0).
    fn on_twenty(&self) -> Option<Q> {
        let v = match self.mark {
            Mark::Value(v) => v,
            Mark::Nr => 0,
            Mark::Abs | Mark::Disp | Mark::Nn => return None,
        };
        (self.coefficient > 0 && self.out_of > 0).then(|| Q::new(20 * i64::from(v), i64::from(self.out_of)))
    }

    fn coef(&self) -> Q {
        Q::new(i64::from(self.coefficient), 100)
    }
}

/// A student's average in one subject, by the rule of this module.
pub fn subject_average(marks: &[Graded]) -> Option<Q> {
    let mut num = Q::int(0);
    let mut den = Q::int(0);
    for g in marks.iter().filter(|g| g.kind == EvalKind::Counts) {
        if let Some(v) = g.on_twenty() {
            num = num.add(&g.coef().mul(&v));
            den = den.add(&g.coef());
        }
    }
    let mut bonus = Q::int(0);
    let ten = Q::int(10);
    for g in marks.iter().filter(|g| g.kind == EvalKind::Bonus) {
        if let Some(v) = g.on_twenty()
            && v > ten
        {
            bonus = bonus.add(&g.coef().mul(&v.sub(&ten)));
        }
    }
    // The bonus is spread over the coefficients of the evaluations that
    // count, so that it is the same whichever optional marks are kept.
    let bonus = bonus.div(&den).unwrap_or(Q::int(0));
    let mut optional: Vec<(Q, Q)> = marks
        .iter()
        .filter(|g| g.kind == EvalKind::Optional)
        .filter_map(|g| Some((g.on_twenty()?, g.coef())))
        .collect();
    optional.sort_by(|a, b| b.0.cmp(&a.0));
    for (v, c) in optional {
        // Kept when it raises the average (the first one starts an
        // average when nothing counts yet).
        if num.div(&den).is_some_and(|current| v <= current) {
            continue;
        }
        num = num.add(&c.mul(&v));
        den = den.add(&c);
    }
    let avg = num.div(&den)?.add(&bonus);
    Some(avg.min(Q::int(20)))
}

/// The overall average from `(subject average, coefficient in
/// hundredths)` pairs; subjects without an average or with coefficient 0
/// are left out.
pub fn overall_average(subjects: &[(Option<Q>, u32)]) -> Option<Q> {
    let mut num = Q::int(0);
    let mut den = Q::int(0);
    for (avg, k) in subjects {
        if let Some(a) = avg
            && *k > 0
        {
            let k = Q::new(i64::from(*k), 100);
            num = num.add(&k.mul(a));
            den = den.add(&k);
        }
    }
    num.div(&den)
}

/// Class figures over students' averages (students without one left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassStats {
    pub average: Q,
    pub min: Q,
    pub max: Q,
    pub count: usize,
}

pub fn class_stats(averages: &[Option<Q>]) -> Option<ClassStats> {
    let present: Vec<&Q> = averages.iter().flatten().collect();
    let first = *present.first()?;
    let mut sum = Q::int(0);
    let (mut min, mut max) = (first.clone(), first.clone());
    for a in &present {
        sum = sum.add(a);
        min = min.min((*a).clone());
        max = max.max((*a).clone());
    }
    Some(ClassStats {
        average: sum.div(&Q::int(present.len() as i64))?,
        min,
        max,
        count: present.len(),
    })
}

/// A rounded figure as shown: hundredths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Shown(pub u32);

impl Shown {
    /// "12.35"; `decimals` as the step needs (two for hundredths, one
    /// for tenths and half points, none for whole points).
    pub fn format(self, step: RoundingStep) -> String {
        let (i, f) = (self.0 / 100, self.0 % 100);
        match step {
            RoundingStep::Hundredth => format!("{i}.{f:02}"),
            RoundingStep::Tenth | RoundingStep::Half => format!("{i}.{}", f / 10),
            RoundingStep::Whole => i.to_string(),
        }
    }

    /// The French form: "12,35".
    pub fn format_fr(self, step: RoundingStep) -> String {
        self.format(step).replace('.', ",")
    }
}

/// Rounds an exact value once, for showing it.
pub fn round(q: &Q, step: RoundingStep, mode: RoundingMode) -> Shown {
    let step_h: i64 = match step {
        RoundingStep::Hundredth => 1,
        RoundingStep::Tenth => 10,
        RoundingStep::Half => 50,
        RoundingStep::Whole => 100,
    };
    // r = q × 100 / step, in steps.
    let r = q.mul(&Q::new(100, step_h));
    let (floor, rem) = r.num.div_mod_floor(&r.den);
    let n = match mode {
        RoundingMode::Up => {
            if rem.is_zero() {
                floor
            } else {
                floor + 1
            }
        }
        RoundingMode::Nearest => {
            if BigInt::from(2) * &rem >= r.den {
                floor + 1
            } else {
                floor
            }
        }
    };
    let h = n * step_h;
    Shown(u32::try_from(h).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn g(coefficient: u32, out_of: u32, kind: EvalKind, mark: Mark) -> Graded {
        Graded {
            coefficient: coefficient * 100,
            out_of: out_of * 100,
            kind,
            mark,
        }
    }

    fn v(x: f64) -> Mark {
        Mark::Value((x * 100.0).round() as u32)
    }

    fn show(q: &Option<Q>) -> String {
        q.as_ref()
            .map(|q| round(q, RoundingStep::Hundredth, RoundingMode::Nearest).format(RoundingStep::Hundredth))
            .unwrap_or_else(|| "-".into())
    }

    use EvalKind::*;

    #[test]
    fn weights_and_scales() {
        // 15/20 coef 2, 4/10 coef 1 (= 8/20): (30 + 8) / 3 = 12.666…
        let a = subject_average(&[g(2, 20, Counts, v(15.0)), g(1, 10, Counts, v(4.0))]);
        assert_eq!(a, Some(Q::new(38, 3)));
        assert_eq!(show(&a), "12.67");
        // Decimal coefficients and scales: 7.5/12.5 coef 0.5 = 12/20.
        let a = subject_average(&[Graded {
            coefficient: 50,
            out_of: 1250,
            kind: Counts,
            mark: Mark::Value(750),
        }]);
        assert_eq!(a, Some(Q::int(12)));
        // Coefficient 0 is never counted.
        assert_eq!(
            subject_average(&[g(0, 20, Counts, v(3.0)), g(1, 20, Counts, v(14.0))]),
            Some(Q::int(14))
        );
        assert_eq!(subject_average(&[g(0, 20, Counts, v(3.0))]), None);
        // No marks, no average.
        assert_eq!(subject_average(&[]), None);
    }

    #[test]
    fn every_special_value_has_its_effect() {
        let base = g(1, 20, Counts, v(12.0));
        for (special, expect) in [
            (Mark::Abs, Q::int(12)),
            (Mark::Disp, Q::int(12)),
            (Mark::Nn, Q::int(12)),
            (Mark::Nr, Q::int(6)),
        ] {
            assert_eq!(
                subject_average(&[base, g(1, 20, Counts, special)]),
                Some(expect),
                "{special:?}"
            );
        }
        assert_eq!(subject_average(&[g(1, 20, Counts, Mark::Abs)]), None);
        assert_eq!(subject_average(&[g(1, 20, Counts, Mark::Nr)]), Some(Q::int(0)));
    }

    #[test]
    fn optional_marks_count_only_when_they_raise_the_average() {
        let base = [g(1, 20, Counts, v(10.0)), g(1, 20, Counts, v(12.0))];
        let low = g(1, 20, Optional, v(8.0));
        let high = g(2, 20, Optional, v(17.0));
        let mid = g(1, 20, Optional, v(12.0));
        assert_eq!(subject_average(&[base[0], base[1], low]), Some(Q::int(11)));
        // (22 + 34) / 4 = 14; then 12 < 14: left out.
        assert_eq!(
            subject_average(&[base[0], base[1], high, mid, low]),
            Some(Q::int(14))
        );
        // Optional alone: the best one starts the average.
        assert_eq!(subject_average(&[low]), Some(Q::int(8)));
        assert_eq!(subject_average(&[g(1, 20, Optional, Mark::Abs)]), None);
    }

    #[test]
    fn bonus_counts_only_points_above_the_middle() {
        let base = [g(1, 20, Counts, v(12.0))];
        // 16/20 coef 1: +6 points over 1 coefficient.
        assert_eq!(
            subject_average(&[base[0], g(1, 20, Bonus, v(16.0))]),
            Some(Q::int(18))
        );
        // 4/10 is below the middle: nothing.
        assert_eq!(
            subject_average(&[base[0], g(1, 10, Bonus, v(4.0))]),
            Some(Q::int(12))
        );
        // Capped at 20.
        assert_eq!(
            subject_average(&[base[0], g(3, 20, Bonus, v(20.0))]),
            Some(Q::int(20))
        );
        // A bonus alone makes no average.
        assert_eq!(subject_average(&[g(1, 20, Bonus, v(19.0))]), None);
    }

    #[test]
    fn overall_average_with_class_coefficients_and_overrides() {
        let maths = Some(Q::int(15));
        let french = Some(Q::int(9));
        // Class: maths coef 3, French coef 1 → (45 + 9) / 4 = 13.5.
        assert_eq!(
            overall_average(&[(maths.clone(), 300), (french.clone(), 100)]),
            Some(Q::new(27, 2))
        );
        // A student's override: maths 1 → 12.
        assert_eq!(
            overall_average(&[(maths.clone(), 100), (french.clone(), 100)]),
            Some(Q::int(12))
        );
        // A subject without an average, or coefficient 0, is left out.
        assert_eq!(
            overall_average(&[(maths.clone(), 100), (None, 500), (french, 0)]),
            maths
        );
        assert_eq!(overall_average(&[]), None);
    }

    #[test]
    fn class_average_minimum_and_maximum() {
        let s = class_stats(&[Some(Q::int(8)), None, Some(Q::new(29, 2)), Some(Q::int(12))]).unwrap();
        assert_eq!(
            (s.average, s.min, s.max, s.count),
            (Q::new(69, 6), Q::int(8), Q::new(29, 2), 3)
        );
        assert_eq!(class_stats(&[None, None]), None);
    }

    #[test]
    fn rounding_at_the_boundaries() {
        use RoundingMode::*;
        use RoundingStep::*;
        let r = |n: i64, d: i64, s, m| round(&Q::new(n, d), s, m).format(s);
        // 12.345 exactly: half up to the hundredth.
        assert_eq!(r(12345, 1000, Hundredth, Nearest), "12.35");
        assert_eq!(r(123449999, 10000000, Hundredth, Nearest), "12.34");
        assert_eq!(r(12341, 1000, Hundredth, Up), "12.35");
        assert_eq!(r(1234, 100, Hundredth, Up), "12.34", "exact stays");
        // 38/3 = 12.666…
        assert_eq!(r(38, 3, Hundredth, Nearest), "12.67");
        assert_eq!(r(38, 3, Tenth, Nearest), "12.7");
        assert_eq!(r(1225, 100, Tenth, Nearest), "12.3");
        assert_eq!(r(1224, 100, Tenth, Nearest), "12.2");
        // Half points: 12.25 → 12.5, 12.24 → 12.0, 12.01 up → 12.5.
        assert_eq!(r(1225, 100, Half, Nearest), "12.5");
        assert_eq!(r(1224, 100, Half, Nearest), "12.0");
        assert_eq!(r(1201, 100, Half, Up), "12.5");
        assert_eq!(r(1275, 100, Half, Nearest), "13.0");
        assert_eq!(r(1250, 100, Whole, Nearest), "13");
        assert_eq!(r(1249, 100, Whole, Nearest), "12");
        assert_eq!(r(20, 1, Hundredth, Nearest), "20.00");
        assert_eq!(round(&Q::new(1225, 100), Tenth, Nearest).format_fr(Tenth), "12,3");
    }

    #[test]
    fn marks_parse_with_their_scale() {
        assert_eq!(Mark::parse("12,5", 2000), Ok(Mark::Value(1250)));
        assert_eq!(Mark::parse(" abs ", 2000), Ok(Mark::Abs));
        assert_eq!(Mark::parse("NR", 2000), Ok(Mark::Nr));
        assert!(Mark::parse("21", 2000).unwrap_err().contains("above the scale"));
        assert!(Mark::parse("12.345", 2000).is_err());
        assert!(Mark::parse("-1", 2000).is_err());
        assert!(Mark::parse("", 2000).is_err());
        assert!(Mark::parse(".", 2000).is_err());
        assert_eq!(parse_hundredths(".5"), Some(50));
        assert_eq!(show_hundredths(1205), "12.05");
        assert_eq!(show_hundredths(1250), "12.5");
        for m in [Mark::Value(1999), Mark::Abs, Mark::Disp, Mark::Nn, Mark::Nr] {
            let (v, s) = m.to_columns();
            assert_eq!(Mark::from_columns(v.map(i64::from), s), Some(m));
        }
    }

    fn graded() -> impl Strategy<Value = Graded> {
        (
            0u32..=9900,
            prop_oneof![Just(1000u32), Just(2000), Just(1250), 1u32..=10000],
            prop_oneof![Just(Counts), Just(Optional), Just(Bonus)],
            0u32..=10000,
            0u8..6,
        )
            .prop_map(|(coefficient, out_of, kind, raw, special)| Graded {
                coefficient,
                out_of,
                kind,
                mark: match special {
                    0 => Mark::Abs,
                    1 => Mark::Nr,
                    _ => Mark::Value(raw % (out_of + 1)),
                },
            })
    }

    proptest! {
        /// Adding an optional mark never lowers an average.
        #[test]
        fn an_optional_mark_never_lowers_an_average(
            marks in proptest::collection::vec(graded(), 0..12),
            coefficient in 1u32..=9900,
            out_of in 1u32..=10000,
            raw in 0u32..=10000,
        ) {
            let before = subject_average(&marks);
            let mut with = marks.clone();
            with.push(Graded { coefficient, out_of, kind: Optional, mark: Mark::Value(raw % (out_of + 1)) });
            let after = subject_average(&with);
            if let Some(b) = before {
                prop_assert!(after.clone().is_some_and(|a| a >= b), "{:?} -> {:?}", b, after);
            }
        }

        /// Averages stay within 0–20 and are independent of order.
        #[test]
        fn averages_are_bounded_and_order_free(marks in proptest::collection::vec(graded(), 0..12)) {
            let a = subject_average(&marks);
            let mut rev = marks.clone();
            rev.reverse();
            prop_assert_eq!(&a, &subject_average(&rev));
            if let Some(a) = a {
                prop_assert!(a >= Q::int(0) && a <= Q::int(20));
            }
        }

        /// Rounding lands on a step, within half a step (nearest) or one
        /// step above (up).
        #[test]
        fn rounding_stays_close(n in 0i64..2_000_000, d in 1i64..100_000) {
            let q = Q::new(n, d);
            for (step, h) in [(RoundingStep::Hundredth, 1u32), (RoundingStep::Tenth, 10), (RoundingStep::Half, 50), (RoundingStep::Whole, 100)] {
                let near = round(&q, step, RoundingMode::Nearest).0;
                let up = round(&q, step, RoundingMode::Up).0;
                prop_assert_eq!(near % h, 0);
                prop_assert_eq!(up % h, 0);
                let x = Q::new(i64::from(near), 100);
                let diff = if x > q { x.sub(&q) } else { q.sub(&x) };
                prop_assert!(diff <= Q::new(i64::from(h), 200));
                let u = Q::new(i64::from(up), 100);
                prop_assert!(u >= q && u.sub(&q) < Q::new(i64::from(h), 100));
            }
        }
    }
}
