//! Logins from names: pure and deterministic.
//!
//! A name is transliterated to ASCII (accents dropped, ligatures such as
//! œ, æ and ß spelled out, any other Latin letter by its closest ASCII
//! form), lower-cased; apostrophes, spaces and hyphens are dropped, so
//! "D'Artagnan" gives "dartagnan", "Le Gall" "legall" and "Jean-Baptiste"
//! "jeanbaptiste" (particles are kept: they are part of the name). The
//! scheme (default `{prenom}.{nom}`) places the pieces; a login is at most
//! 20 characters (the Windows pre-2000 limit Samba clients still use): the
//! longest piece is shortened first. A login already used — by anybody,
//! ever, or by a system account — gets the smallest number suffix that
//! makes it free ("lucas.martin2"). Logins are stored once given, so a
//! person keeps theirs when their name or class changes.

use std::collections::HashSet;

/// Longest login.
pub const MAX_LEN: usize = 20;

/// The placeholders a scheme may use.
pub const PLACEHOLDERS: [&str; 4] = ["{prenom}", "{nom}", "{p}", "{n}"];

/// ASCII lower-case letters and digits of a name, nothing else.
pub fn ascii_name(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars() {
        let spelled: std::borrow::Cow<'_, str> = match ch {
            // Ligatures and letters deunicode spells differently than French
            // or German administrations do.
            'œ' | 'Œ' => "oe".into(),
            'æ' | 'Æ' => "ae".into(),
            'ß' | 'ẞ' => "ss".into(),
            c if c.is_ascii() => c.to_string().into(),
            c => deunicode::deunicode_char(c).unwrap_or("").to_string().into(),
        };
        out.extend(
            spelled
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .map(|c| c.to_ascii_lowercase()),
        );
    }
    out
}

/// Whether `scheme` is usable: it must contain `{nom}` or `{n}`, and
/// `{prenom}` or `{p}`, and otherwise only ASCII lower-case letters,
/// digits, `.`, `-` and `_`.
pub fn check_scheme(scheme: &str) -> Result<(), crate::config::Msg> {
    let mut rest = scheme.to_string();
    for p in PLACEHOLDERS {
        rest = rest.replace(p, "");
    }
    if !(scheme.contains("{nom}") || scheme.contains("{n}"))
        || !(scheme.contains("{prenom}") || scheme.contains("{p}"))
    {
        return Err(crate::msg!(
            "the scheme must use the first name ({{prenom}} or {{p}}) and the last name ({{nom}} or {{n}})",
            "le modèle doit employer le prénom ({{prenom}} ou {{p}}) et le nom ({{nom}} ou {{n}})"
        ));
    }
    if let Some(c) = rest
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(*c)))
    {
        let all = PLACEHOLDERS.join(" ");
        return Err(crate::msg!(
            "the scheme holds `{c}`: only the placeholders {all} and a-z, 0-9, '.', '-', '_' are allowed",
            "le modèle contient « {c} » : seuls les repères {all} et a-z, 0-9, « . », « - », « _ » sont permis"
        ));
    }
    Ok(())
}

/// The login a scheme gives for a name, before uniqueness: at most
/// [`MAX_LEN`] characters, starting with a letter.
pub fn base_login(scheme: &str, first: &str, last: &str) -> String {
    // Only the first given name counts ("Marie Claire" -> "marie"), but a
    // hyphenated one is whole ("Jean-Baptiste").
    let first_word = first.split_whitespace().next().unwrap_or("");
    let mut prenom = ascii_name(first_word);
    let mut nom = ascii_name(last);
    if prenom.is_empty() {
        prenom = "x".into();
    }
    if nom.is_empty() {
        nom = "x".into();
    }
    let render = |prenom: &str, nom: &str| -> String {
        scheme
            .replace("{prenom}", prenom)
            .replace("{nom}", nom)
            .replace("{p}", &prenom[..1])
            .replace("{n}", &nom[..1])
    };
    // Shorten the longer of the two pieces until it fits.
    let mut login = render(&prenom, &nom);
    while login.len() > MAX_LEN {
        if nom.len() >= prenom.len() && nom.len() > 1 {
            nom.pop();
        } else if prenom.len() > 1 {
            prenom.pop();
        } else {
            login.truncate(MAX_LEN);
            break;
        }
        login = render(&prenom, &nom);
    }
    let mut login = login.trim_matches(|c| ".-_".contains(c)).to_string();
    if !login.starts_with(|c: char| c.is_ascii_lowercase()) {
        login.insert(0, 'u');
        login.truncate(MAX_LEN);
    }
    login
}

/// A login for a name that is not in `taken` (logins ever used and system
/// account names), with the smallest free number suffix. Deterministic.
pub fn unique_login(scheme: &str, first: &str, last: &str, taken: &dyn Fn(&str) -> bool) -> String {
    let base = base_login(scheme, first, last);
    if !taken(&base) {
        return base;
    }
    for n in 2u32.. {
        let suffix = n.to_string();
        let mut stem = base.clone();
        stem.truncate(MAX_LEN - suffix.len());
        let stem = stem.trim_end_matches(|c| ".-_".contains(c));
        let candidate = format!("{stem}{suffix}");
        if !taken(&candidate) {
            return candidate;
        }
    }
    unreachable!("u32 suffixes exhausted")
}

/// Generates logins for many people at once against a set of used logins,
/// which it extends.
pub struct Generator {
    pub scheme: String,
    pub used: HashSet<String>,
}

impl Generator {
    pub fn new(scheme: &str, used: HashSet<String>) -> Generator {
        Generator {
            scheme: scheme.into(),
            used,
        }
    }

    /// A fresh login for this name, recorded as used.
    pub fn next(&mut self, first: &str, last: &str) -> String {
        let used = &self.used;
        let login = unique_login(&self.scheme, first, last, &|l| used.contains(l));
        self.used.insert(login.clone());
        login
    }
}

/// Whether `login` is a well-formed login (for `accounts add --login`).
pub fn is_valid_login(login: &str) -> bool {
    !login.is_empty()
        && login.len() <= MAX_LEN
        && login.starts_with(|c: char| c.is_ascii_lowercase())
        && login
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: &str = "{prenom}.{nom}";

    #[test]
    fn french_names() {
        assert_eq!(base_login(S, "Léa", "Lefèvre"), "lea.lefevre");
        assert_eq!(base_login(S, "Œdipe", "Bœuf"), "oedipe.boeuf");
        assert_eq!(
            base_login(S, "Jean-Baptiste", "D'Artagnan"),
            "jeanbaptis.dartagnan"
        );
        assert_eq!(base_login(S, "Zoé", "Le Gall"), "zoe.legall");
        assert_eq!(base_login(S, "Björn", "Müller"), "bjorn.muller");
        assert_eq!(base_login(S, "Ana-Sofía", "Çelik"), "anasofia.celik");
        assert_eq!(base_login(S, "Marie Claire", "Nguy\u{1ec5}n"), "marie.nguyen");
        assert_eq!(base_login(S, "Aïcha", "Ben Saïd"), "aicha.bensaid");
        assert_eq!(base_login(S, "Sven", "Straße"), "sven.strasse");
        assert_eq!(base_login(S, "Æsa", "O'Connor"), "aesa.oconnor");
        assert_eq!(
            base_login(
                S,
                "Léa",
                "De Saint-Exupéry-Montmorency-Laval de la Tour d'Auvergne"
            ),
            "lea.desaintexuperymo"
        );
        assert_eq!(base_login("{p}{nom}", "Léa", "Martin"), "lmartin");
        assert_eq!(base_login("{nom}.{p}", "Léa", "Martin"), "martin.l");
        assert_eq!(base_login(S, "", "123"), "x.123");
        assert_eq!(base_login("{nom}{p}", "Léa", "123"), "u123l");
    }

    #[test]
    fn homonyms_get_suffixes_and_never_exceed() {
        let mut g = Generator::new(S, HashSet::new());
        assert_eq!(g.next("Lucas", "Martin"), "lucas.martin");
        assert_eq!(g.next("Lucas", "Martin"), "lucas.martin2");
        assert_eq!(g.next("Lucas", "Martin"), "lucas.martin3");
        let long = "Saint-Exupéry-Montmorency";
        let a = g.next("Jean-Baptiste", long);
        let b = g.next("Jean-Baptiste", long);
        assert_eq!(a.len(), 20);
        assert!(b.len() <= 20 && b.ends_with('2'), "{b}");
    }

    #[test]
    fn schemes_are_checked() {
        assert!(check_scheme("{prenom}.{nom}").is_ok());
        assert!(check_scheme("{p}{nom}").is_ok());
        assert!(check_scheme("{nom}").is_err());
        assert!(check_scheme("{prenom} {nom}").is_err());
        assert!(check_scheme("{prenom}.{nom}é").is_err());
    }

    proptest! {
        #[test]
        fn logins_are_ascii_short_and_deterministic(first in "\\PC{0,30}", last in "\\PC{0,60}") {
            let a = base_login(S, &first, &last);
            prop_assert!(a.len() <= MAX_LEN);
            prop_assert!(is_valid_login(&a), "{a}");
            prop_assert_eq!(&a, &base_login(S, &first, &last));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn unique_over_thousands(names in proptest::collection::vec(("[A-Za-zÀ-ÿ' -]{0,12}", "[A-Za-zÀ-ÿœŒ' -]{0,25}"), 2000..3000)) {
            let mut g = Generator::new(S, HashSet::new());
            let mut seen = HashSet::new();
            for (f, l) in &names {
                let login = g.next(f, l);
                prop_assert!(is_valid_login(&login), "{login}");
                prop_assert!(seen.insert(login.clone()), "duplicate {login}");
            }
            // Deterministic: the same names in the same order give the same logins.
            let mut g2 = Generator::new(S, HashSet::new());
            let again: HashSet<String> = names.iter().map(|(f, l)| g2.next(f, l)).collect();
            prop_assert_eq!(seen, again);
        }
    }
}
