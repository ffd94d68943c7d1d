//! The ways a phone number is written, from the number's own country (libphonenumber's metadata through
//! the `phonenumber` crate): E.164, national (with the trunk prefix), international with the country's
//! dialling prefix, each grouped as the country groups it, with spaces, dashes, dots or nothing between
//! the groups, and the parenthesised forms (`(415) 555-0123`, `+33 (0)6 …`).

use phonenumber::metadata::DATABASE;
use phonenumber::Mode;

/// Forms of `e164` (`+` and digits) with separators, as people and apps write them; the compact forms are
/// [`compact_forms`]. Empty when the library does not know the number's country.
pub(crate) fn written_forms(e164: &str) -> Vec<String> {
    let Some(number) = Number::parse(e164) else { return Vec::new() };
    let national_groups = digit_groups(&number.national);
    let international_groups = digit_groups(&number.international);
    let mut out = vec![number.national.clone(), number.international.clone()];
    for separator in [" ", "-", "."] {
        out.push(national_groups.join(separator));
        out.push(format!("+{}", international_groups.join(separator)));
        // As dialled from the number's own country: `00 33 6 …` (`011 1 415 …` in the US).
        out.push(format!("{}{separator}{}", number.dial_out, international_groups.join(separator)));
    }
    // `+33 (0)6 12 34 56 78`: the trunk prefix in parentheses after the country code.
    if let Some(rest) = number.trunk.as_deref().and_then(|trunk| number.national.strip_prefix(trunk)) {
        let (code, trunk) = (number.code, number.trunk.as_deref().unwrap_or_default());
        let rest = digit_groups(rest).join(" ");
        out.push(format!("+{code} ({trunk}){rest}"));
        out.push(format!("+{code} ({trunk}) {rest}"));
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|form| form.len() > 1 && seen.insert(form.clone()));
    out
}

/// The compact forms beyond E.164 and its digits: national digits with the trunk prefix (`0612345678`)
/// and the digits after the country's dialling-out prefix (`0033612345678`).
pub(crate) fn compact_forms(e164: &str) -> Vec<String> {
    let Some(number) = Number::parse(e164) else { return Vec::new() };
    let national: String = number.national.chars().filter(char::is_ascii_digit).collect();
    vec![national, format!("{}{}", number.dial_out, e164.trim_start_matches('+'))]
}

/// What the library says of a number.
struct Number {
    /// National format, e.g. `06 12 34 56 78`, `(415) 555-0123`.
    national: String,
    /// International format, e.g. `+33 6 12 34 56 78`.
    international: String,
    code: u16,
    /// The trunk prefix dialled before national numbers (`0` in France), if the country has one.
    trunk: Option<String>,
    /// The prefix dialled to call abroad from the number's country (`00`, `011`).
    dial_out: String,
}

impl Number {
    fn parse(e164: &str) -> Option<Self> {
        let number = phonenumber::parse(None, e164).ok()?;
        let metadata = number.metadata(&DATABASE)?;
        let digits_only = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        let dial_out = metadata
            .preferred_international_prefix()
            .filter(digits_only)
            .or_else(|| metadata.international_prefix().map(|r| r.as_str()).filter(digits_only))
            .unwrap_or("00")
            .to_owned();
        Some(Self {
            national: number.format().mode(Mode::National).to_string(),
            international: number.format().mode(Mode::International).to_string(),
            code: number.code().value(),
            trunk: metadata.national_prefix().map(str::to_owned),
            dial_out,
        })
    }
}

fn digit_groups(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_digit()).filter(|g| !g.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_mobile() {
        let forms = written_forms("+33612345678");
        for expected in [
            "06 12 34 56 78",
            "06-12-34-56-78",
            "06.12.34.56.78",
            "+33 6 12 34 56 78",
            "+33-6-12-34-56-78",
            "00 33 6 12 34 56 78",
            "+33 (0)6 12 34 56 78",
        ] {
            assert!(forms.iter().any(|f| f == expected), "{expected} not in {forms:?}");
        }
        assert_eq!(compact_forms("+33612345678"), ["0612345678", "0033612345678"]);
    }

    #[test]
    fn north_american_number_uses_its_own_prefixes() {
        let forms = written_forms("+14155550123");
        for expected in ["(415) 555-0123", "+1 415-555-0123", "+1 415 555 0123", "415.555.0123", "011 1 415 555 0123"] {
            assert!(forms.iter().any(|f| f == expected), "{expected} not in {forms:?}");
        }
        assert_eq!(compact_forms("+14155550123"), ["4155550123", "01114155550123"]);
    }

    #[test]
    fn unknown_numbers_have_no_written_forms() {
        assert!(written_forms("+999123456").is_empty());
        assert!(written_forms("612345678").is_empty());
        assert!(compact_forms("612345678").is_empty());
    }
}
