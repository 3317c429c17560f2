//! Exchange decimal text to an integer mantissa at a fixed scale, exactly or not at all.
//!
//! The same rules as the Python `platform_streams.exchanges.decimal_text.mantissa_at_scale`:
//! plain ASCII digits with at most one dot (no sign, exponent or spaces), never through a
//! float, refused rather than rounded, and the mantissa must fit a signed 64-bit integer.

use std::fmt;

/// Why a decimal text has no exact mantissa at the requested scale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecimalTextError {
    /// Not digits with at most one dot (empty text, a sign, an exponent, a second dot).
    NotPlainDecimal { text: String },
    /// A non-zero digit past the scale: the value would have to be rounded.
    TooManyDecimals { text: String, scale: u32 },
    /// The mantissa does not fit a signed 64-bit integer.
    OutOfRange { text: String, scale: u32 },
}

impl fmt::Display for DecimalTextError {
    /// The same wording as the Python `FixedPointError` messages, so dead-letter reasons read alike.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPlainDecimal { text } => write!(formatter, "not plain decimal text: {}", python_repr(text)),
            Self::TooManyDecimals { text, scale } => write!(formatter, "{text} has more than {scale} decimals"),
            Self::OutOfRange { text, scale } => {
                write!(formatter, "{text} at scale {scale} does not fit a signed 64-bit mantissa")
            }
        }
    }
}

/// `("61837.63000000", 2)` → `6183763`; refuses text whose value has digits past `scale`.
pub fn mantissa_at_scale(text: &str, scale: u32) -> Result<i64, DecimalTextError> {
    let (head, tail) = text.split_once('.').unwrap_or((text, ""));
    let is_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if head.len() + tail.len() == 0 || !is_digits(head) || !is_digits(tail) {
        return Err(DecimalTextError::NotPlainDecimal { text: text.to_owned() });
    }
    let out_of_range = || DecimalTextError::OutOfRange { text: text.to_owned(), scale };
    let decimals = tail.len();
    let scale_digits = scale as usize;
    let mantissa = if decimals > scale_digits {
        let (kept, dropped) = tail.split_at(scale_digits);
        if dropped.bytes().any(|byte| byte != b'0') {
            return Err(DecimalTextError::TooManyDecimals { text: text.to_owned(), scale });
        }
        digits_value(head, kept).ok_or_else(out_of_range)?
    } else {
        let value = digits_value(head, tail).ok_or_else(out_of_range)?;
        times_power_of_ten(value, scale_digits - decimals).ok_or_else(out_of_range)?
    };
    i64::try_from(mantissa).map_err(|_| out_of_range())
}

/// The value of the digits of `head` followed by those of `tail`; None past `u64::MAX`.
fn digits_value(head: &str, tail: &str) -> Option<u64> {
    head.bytes()
        .chain(tail.bytes())
        .try_fold(0u64, |value, digit| value.checked_mul(10)?.checked_add(u64::from(digit - b'0')))
}

fn times_power_of_ten(value: u64, exponent: usize) -> Option<u64> {
    if value == 0 {
        return Some(0);
    }
    let power = 10u64.checked_pow(u32::try_from(exponent).ok()?)?;
    value.checked_mul(power)
}

/// Python's `repr` of a string for the usual case (no quote, backslash or control character),
/// Rust's debug spelling otherwise: the reason names the text either way.
fn python_repr(text: &str) -> String {
    if text.chars().any(|character| character == '\'' || character == '\\' || character.is_control()) {
        format!("{text:?}")
    } else {
        format!("'{text}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_at_its_own_scale_and_at_others() {
        assert_eq!(mantissa_at_scale("61837.63000000", 8), Ok(6_183_763_000_000));
        assert_eq!(mantissa_at_scale("61837.63000000", 2), Ok(6_183_763));
        assert_eq!(mantissa_at_scale("0.5", 3), Ok(500));
        assert_eq!(mantissa_at_scale("7", 0), Ok(7));
        assert_eq!(mantissa_at_scale("7.", 1), Ok(70));
        assert_eq!(mantissa_at_scale(".25", 2), Ok(25));
        assert_eq!(mantissa_at_scale("0.000", 50), Ok(0));
        assert_eq!(mantissa_at_scale("00000000000000000000000012.50", 2), Ok(1250));
    }

    #[test]
    fn refuses_to_round() {
        let error = mantissa_at_scale("1.0001", 3).unwrap_err();
        assert_eq!(error.to_string(), "1.0001 has more than 3 decimals");
    }

    #[test]
    fn refuses_text_that_is_not_plain_decimal() {
        for text in ["", ".", "-1.00", "1e5", "1.2.3", " 1", "1_000", "١"] {
            assert!(matches!(mantissa_at_scale(text, 8), Err(DecimalTextError::NotPlainDecimal { .. })), "{text}");
        }
        assert_eq!(mantissa_at_scale("-1.00", 8).unwrap_err().to_string(), "not plain decimal text: '-1.00'");
    }

    #[test]
    fn refuses_mantissas_past_64_bits() {
        assert_eq!(mantissa_at_scale("92233720368.54775807", 8), Ok(i64::MAX));
        assert!(matches!(mantissa_at_scale("92233720368.54775808", 8), Err(DecimalTextError::OutOfRange { .. })));
        assert!(matches!(mantissa_at_scale("1", 19), Err(DecimalTextError::OutOfRange { .. })));
        assert!(matches!(mantissa_at_scale("99999999999999999999999", 0), Err(DecimalTextError::OutOfRange { .. })));
    }
}
