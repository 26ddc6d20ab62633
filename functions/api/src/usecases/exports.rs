//! The finance team's monthly export (written by the billing function to S3): one
//! CSV across every account's invoice of the month. Only the `finance` role reads
//! it; for everyone else it does not exist.

use teleconf_adapters::blobs::BlobStore;
use teleconf_domain::permissions::{Action, decide};
use teleconf_domain::{BlobKey, YearMonth};

use super::Caller;
use crate::error::Error;

/// The finance export of `month` (YYYY-MM), its month and its CSV bytes.
pub async fn finance_export(
    blobs: &dyn BlobStore,
    caller: &Caller,
    month: &str,
) -> Result<(YearMonth, Vec<u8>), Error> {
    Error::check(
        decide(&caller.actor(), Action::ViewFinanceExports),
        "export",
    )?;
    let month: YearMonth = month.parse().map_err(|_| Error::NotFound("export"))?;
    let csv = blobs
        .get(&BlobKey::finance_export(month))
        .await?
        .ok_or(Error::NotFound("export"))?;
    Ok((month, csv))
}
