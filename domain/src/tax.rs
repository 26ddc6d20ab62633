//! Sales taxes on an invoice, and the province that gives an account its default ones.
//!
//! Taxes are plan parameters: a plan may list its own; a plan that lists none takes
//! the defaults of the account's province. A Québec account pays the GST (5 %) and
//! the QST (9.975 %), each on its own invoice line; a province with no defaults here,
//! or an account with no province, pays none until the provider configures them.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::dec;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// One tax: its printed name and its rate (0.05 for 5 %).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "TaxRaw", into = "TaxRaw")]
pub struct Tax {
    name: String,
    rate: Decimal,
}

impl Tax {
    /// Longest tax name printed on an invoice.
    pub const MAX_NAME_CHARS: usize = 20;

    /// A tax; refuses an empty or long name, and a rate outside [0, 1).
    pub fn new(name: &str, rate: Decimal) -> Result<Self, Error> {
        let name = crate::account::validate_name("name", name, Self::MAX_NAME_CHARS)?;
        if rate.is_sign_negative() || rate >= Decimal::ONE {
            return Err(Error::invalid(
                "rate",
                "a tax rate is at least 0 and below 1",
            ));
        }
        Ok(Self {
            name,
            rate: rate.normalize(),
        })
    }

    /// The Goods and Services Tax, 5 % (« TPS/GST » on a Québec invoice).
    pub fn gst() -> Self {
        Self {
            name: "TPS/GST".into(),
            rate: dec!(0.05),
        }
    }

    /// The Québec Sales Tax, 9.975 % (« TVQ/QST »).
    pub fn qst() -> Self {
        Self {
            name: "TVQ/QST".into(),
            rate: dec!(0.09975),
        }
    }

    /// The name printed on the invoice.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The rate, e.g. 0.05.
    pub fn rate(&self) -> Decimal {
        self.rate
    }
}

#[derive(Serialize, Deserialize)]
struct TaxRaw {
    name: String,
    rate: Decimal,
}

impl TryFrom<TaxRaw> for Tax {
    type Error = Error;
    fn try_from(r: TaxRaw) -> Result<Self, Error> {
        Tax::new(&r.name, r.rate)
    }
}

impl From<Tax> for TaxRaw {
    fn from(t: Tax) -> Self {
        TaxRaw {
            name: t.name,
            rate: t.rate,
        }
    }
}

/// A Canadian province or territory (ISO 3166-2:CA code), where an account is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Province {
    /// Alberta.
    Ab,
    /// British Columbia.
    Bc,
    /// Manitoba.
    Mb,
    /// New Brunswick.
    Nb,
    /// Newfoundland and Labrador.
    Nl,
    /// Nova Scotia.
    Ns,
    /// Northwest Territories.
    Nt,
    /// Nunavut.
    Nu,
    /// Ontario.
    On,
    /// Prince Edward Island.
    Pe,
    /// Québec.
    Qc,
    /// Saskatchewan.
    Sk,
    /// Yukon.
    Yt,
}

impl Province {
    /// Every province and territory, in code order.
    pub const ALL: [Province; 13] = [
        Province::Ab,
        Province::Bc,
        Province::Mb,
        Province::Nb,
        Province::Nl,
        Province::Ns,
        Province::Nt,
        Province::Nu,
        Province::On,
        Province::Pe,
        Province::Qc,
        Province::Sk,
        Province::Yt,
    ];

    /// The two-letter code.
    pub fn code(self) -> &'static str {
        match self {
            Province::Ab => "AB",
            Province::Bc => "BC",
            Province::Mb => "MB",
            Province::Nb => "NB",
            Province::Nl => "NL",
            Province::Ns => "NS",
            Province::Nt => "NT",
            Province::Nu => "NU",
            Province::On => "ON",
            Province::Pe => "PE",
            Province::Qc => "QC",
            Province::Sk => "SK",
            Province::Yt => "YT",
        }
    }

    /// The taxes an account here pays when its plan configures none: GST and QST in
    /// Québec; none elsewhere until the provider configures them on the plan.
    pub fn default_taxes(self) -> Vec<Tax> {
        match self {
            Province::Qc => vec![Tax::gst(), Tax::qst()],
            _ => Vec::new(),
        }
    }
}

impl FromStr for Province {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Province::ALL
            .into_iter()
            .find(|p| p.code().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Error::invalid(
                    "province",
                    "a Canadian province or territory code, such as QC or ON",
                )
            })
    }
}

impl fmt::Display for Province {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Province {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<Province> for String {
    fn from(p: Province) -> String {
        p.code().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quebec_pays_gst_and_qst_and_others_nothing_by_default() {
        let qc: Province = "qc".parse().unwrap();
        assert_eq!(qc, Province::Qc);
        let taxes = qc.default_taxes();
        assert_eq!(taxes.len(), 2);
        assert_eq!((taxes[0].name(), taxes[0].rate()), ("TPS/GST", dec!(0.05)));
        assert_eq!(
            (taxes[1].name(), taxes[1].rate()),
            ("TVQ/QST", dec!(0.09975))
        );
        assert!(Province::On.default_taxes().is_empty());
        assert!("XX".parse::<Province>().is_err());
        assert_eq!(serde_json::to_string(&Province::Qc).unwrap(), "\"QC\"");
    }

    #[test]
    fn a_tax_refuses_nonsense() {
        assert!(Tax::new("", dec!(0.05)).is_err());
        assert!(Tax::new("HST", dec!(-0.01)).is_err());
        assert!(Tax::new("HST", dec!(1)).is_err());
        assert!(Tax::new("a name that is far too long", dec!(0.05)).is_err());
        assert_eq!(Tax::new(" HST ", dec!(0.130)).unwrap().rate(), dec!(0.13));
        let bad = r#"{"name":"HST","rate":"2"}"#;
        assert!(serde_json::from_str::<Tax>(bad).is_err());
    }
}
