//! The invoice as a PDF: the provider's name and support line, the account, the
//! period, one row per line, the fee, each tax, the total and the due date, in the
//! invoice's language (words from `teleconf_domain::invoice::words`).
//!
//! Text is set in DejaVu Sans, shipped in `assets/fonts` (Bitstream Vera licence,
//! see `LICENSE-DejaVu.txt`), which covers French accents; krilla embeds the subset
//! the document uses. The PDF's document id and creation date come from the invoice
//! (its number and issue instant), so the same invoice renders to the same bytes.
//! Coordinates are PDF points (f32): geometry, never money.

use std::sync::OnceLock;

use chrono::{Datelike, Timelike};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime as PdfDateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};
use teleconf_domain::Invoice;
use teleconf_domain::invoice::words::{Words, minutes, money, month_name, percent, words};
use teleconf_domain::messages::Branding;
use teleconf_domain::messages::words::date_words;

use crate::error::BillingError;

const REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// US Letter, the paper size of Québec and the rest of North America.
const PAGE_W: f32 = 612.0;
const PAGE_H: f32 = 792.0;
const MARGIN: f32 = 54.0;
const BODY: f32 = 9.5;
const ROW: f32 = 15.0;

/// One face: what krilla draws with, and what measures text for alignment.
struct Face {
    font: Font,
    metrics: GlyphMetrics<'static>,
    charmap: skrifa::charmap::Charmap<'static>,
    units_per_em: f32,
}

impl Face {
    fn load(bytes: &'static [u8]) -> Result<Self, BillingError> {
        let bad = || BillingError::Pdf("the embedded font does not load".into());
        let font = Font::new(bytes.into(), 0).ok_or_else(bad)?;
        let font_ref = FontRef::new(bytes).map_err(|_| bad())?;
        Ok(Self {
            units_per_em: font.units_per_em(),
            metrics: font_ref.glyph_metrics(Size::unscaled(), LocationRef::default()),
            charmap: font_ref.charmap(),
            font,
        })
    }

    /// The advance width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text
            .chars()
            .filter_map(|c| self.charmap.map(c))
            .filter_map(|g| self.metrics.advance_width(g))
            .sum();
        units * size / self.units_per_em
    }
}

struct Faces {
    regular: Face,
    bold: Face,
}

fn faces() -> Result<&'static Faces, BillingError> {
    static FACES: OnceLock<Result<Faces, String>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            Ok(Faces {
                regular: Face::load(REGULAR).map_err(|e| e.to_string())?,
                bold: Face::load(BOLD).map_err(|e| e.to_string())?,
            })
        })
        .as_ref()
        .map_err(|e| BillingError::Pdf(e.clone()))
}

/// Where text goes, left-aligned or right-aligned on `x`.
#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// A page being written, top to bottom.
struct Pen<'a, 's> {
    surface: &'a mut Surface<'s>,
    faces: &'static Faces,
}

impl Pen<'_, '_> {
    fn text(&mut self, x: f32, y: f32, text: &str, size: f32, bold: bool, align: Align) {
        let face = if bold {
            &self.faces.bold
        } else {
            &self.faces.regular
        };
        let x = match align {
            Align::Left => x,
            Align::Right => x - face.width(text, size),
        };
        self.surface.draw_text(
            Point::from_xy(x, y),
            face.font.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    fn rule(&mut self, y: f32, shade: u8) {
        self.rect(MARGIN, y, PAGE_W - 2.0 * MARGIN, 0.6, shade);
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, shade: u8) {
        let mut path = PathBuilder::new();
        if let Some(r) = Rect::from_xywh(x, y, w, h) {
            path.push_rect(r);
        }
        if let Some(path) = path.finish() {
            self.surface.set_fill(Some(Fill {
                paint: rgb::Color::new(shade, shade, shade).into(),
                opacity: NormalizedF32::ONE,
                rule: Default::default(),
            }));
            self.surface.draw_path(&path);
            self.surface.set_fill(Some(Fill::default()));
        }
    }
}

/// Cuts `text` to fit `width` at `size`, ending in an ellipsis when cut.
fn fit(face: &Face, text: &str, size: f32, width: f32) -> String {
    if face.width(text, size) <= width {
        return text.to_string();
    }
    let mut cut: String = text.to_string();
    while !cut.is_empty() && face.width(&format!("{cut}…"), size) > width {
        cut.pop();
    }
    format!("{}…", cut.trim_end())
}

/// Column x positions: number, description (left), legs, minutes, amount (right edges).
const COL_NUMBER: f32 = MARGIN;
const COL_DESCRIPTION: f32 = MARGIN + 70.0;
const COL_LEGS: f32 = PAGE_W - MARGIN - 220.0;
const COL_MINUTES: f32 = PAGE_W - MARGIN - 95.0;
const COL_AMOUNT: f32 = PAGE_W - MARGIN;
const DESCRIPTION_WIDTH: f32 = COL_LEGS - COL_DESCRIPTION - 45.0;

/// The invoice PDF.
pub fn render(invoice: &Invoice, branding: &Branding) -> Result<Vec<u8>, BillingError> {
    let faces = faces()?;
    let w = words(invoice.language);
    let mut document = Document::new();
    document.set_metadata(metadata(invoice, branding, w));
    let rows = table_rows(invoice);
    let mut next = 0;
    let mut page_number = 1;
    loop {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
            .ok_or_else(|| BillingError::Pdf("page size".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        let mut pen = Pen {
            surface: &mut surface,
            faces,
        };
        let mut y = letterhead(&mut pen, branding, w);
        y = facts(&mut pen, invoice, w, y);
        y = table_header(&mut pen, w, y);
        if rows.is_empty() {
            pen.text(COL_DESCRIPTION, y, w.no_usage, BODY, false, Align::Left);
            y += ROW;
        }
        while next < rows.len() && y < PAGE_H - MARGIN - 40.0 {
            table_row(&mut pen, &rows[next], y);
            y += ROW;
            next += 1;
        }
        // The totals go on the page the last row is on, when they fit below it.
        let totals_height = ROW * (4 + invoice.taxes.len()) as f32 + 60.0;
        let last = next == rows.len() && y + totals_height < PAGE_H - MARGIN;
        if last {
            totals(&mut pen, invoice, w, y);
        }
        page_footer(&mut pen, invoice, page_number);
        surface.finish();
        page.finish();
        if last {
            break;
        }
        page_number += 1;
    }
    document
        .finish()
        .map_err(|e| BillingError::Pdf(format!("{e:?}")))
}

/// The document's title, creator, language, id and date: the invoice's, so the
/// same invoice renders to the same bytes.
fn metadata(invoice: &Invoice, branding: &Branding, w: &Words) -> Metadata {
    Metadata::new()
        .title(format!("{} {}", w.title, invoice.number))
        .creator(branding.provider_name.clone())
        .language(invoice.language.as_str().to_string())
        .document_id(invoice.number.clone())
        .creation_date(pdf_date(&invoice.issued_at))
}

/// One row of the lines' table: conference number, description, legs, minutes, amount.
struct Row {
    number: String,
    description: String,
    legs: String,
    minutes: String,
    amount: String,
}

/// The table's rows, one per invoice line, in the invoice's words.
fn table_rows(invoice: &Invoice) -> Vec<Row> {
    let lang = invoice.language;
    invoice
        .lines
        .iter()
        .map(|l| Row {
            number: l
                .conference_number
                .as_ref()
                .map(|n| n.to_string())
                .unwrap_or_default(),
            description: l.description.clone(),
            legs: l.legs.to_string(),
            minutes: minutes(l.billable_seconds, lang),
            amount: money(l.amount, invoice.currency.as_str(), lang),
        })
        .collect()
}

/// The provider's name, the title and the support line at the top of every page;
/// where the page goes on.
fn letterhead(pen: &mut Pen<'_, '_>, branding: &Branding, w: &Words) -> f32 {
    let mut y = MARGIN + 10.0;
    pen.text(MARGIN, y, &branding.provider_name, 16.0, true, Align::Left);
    pen.text(COL_AMOUNT, y, w.title, 16.0, true, Align::Right);
    y += 16.0;
    pen.text(MARGIN, y, &branding.support_phone, BODY, false, Align::Left);
    y += 12.0;
    pen.text(
        MARGIN,
        y,
        branding.support_email.as_str(),
        BODY,
        false,
        Align::Left,
    );
    y + 22.0
}

/// The invoice's number, account, period, issue and due dates, from `y`.
fn facts(pen: &mut Pen<'_, '_>, invoice: &Invoice, w: &Words, mut y: f32) -> f32 {
    let lang = invoice.language;
    let tz = invoice.time_zone;
    let issued = invoice.issued_at.with_timezone(&tz);
    let period = format!(
        "{} ({} – {})",
        month_name(invoice.month, lang),
        date_words(
            invoice.month.start_in(tz).with_timezone(&tz).date_naive(),
            lang
        ),
        date_words(
            (invoice.month.end_in(tz) - chrono::Duration::seconds(1))
                .with_timezone(&tz)
                .date_naive(),
            lang
        ),
    );
    let facts = [
        (w.number, invoice.number.clone()),
        (w.account, invoice.account_name.clone()),
        (w.period, period),
        (w.issued_on, date_words(issued.date_naive(), lang)),
        (w.due_on, date_words(invoice.due_on, lang)),
    ];
    for (label, value) in &facts {
        pen.text(MARGIN, y, label, BODY, true, Align::Left);
        pen.text(MARGIN + 150.0, y, value, BODY, false, Align::Left);
        y += 13.0;
    }
    y + 14.0
}

/// The table's shaded header row at `y`.
fn table_header(pen: &mut Pen<'_, '_>, w: &Words, y: f32) -> f32 {
    pen.rect(MARGIN, y - 11.0, PAGE_W - 2.0 * MARGIN, 16.0, 230);
    pen.text(COL_NUMBER + 4.0, y, w.conference, BODY, true, Align::Left);
    pen.text(COL_DESCRIPTION, y, w.description, BODY, true, Align::Left);
    pen.text(COL_LEGS, y, w.legs, BODY, true, Align::Right);
    pen.text(COL_MINUTES, y, w.minutes, BODY, true, Align::Right);
    pen.text(COL_AMOUNT - 4.0, y, w.amount, BODY, true, Align::Right);
    y + ROW + 2.0
}

/// One line of the table at `y`, its description cut to fit its column.
fn table_row(pen: &mut Pen<'_, '_>, row: &Row, y: f32) {
    let description = fit(
        &pen.faces.regular,
        &row.description,
        BODY,
        DESCRIPTION_WIDTH,
    );
    pen.text(COL_NUMBER + 4.0, y, &row.number, BODY, false, Align::Left);
    pen.text(COL_DESCRIPTION, y, &description, BODY, false, Align::Left);
    pen.text(COL_LEGS, y, &row.legs, BODY, false, Align::Right);
    pen.text(COL_MINUTES, y, &row.minutes, BODY, false, Align::Right);
    pen.text(COL_AMOUNT - 4.0, y, &row.amount, BODY, false, Align::Right);
}

/// Usage, plan fee, subtotal, each tax and the total below the table's last row,
/// then the currency note.
fn totals(pen: &mut Pen<'_, '_>, invoice: &Invoice, w: &Words, mut y: f32) {
    let lang = invoice.language;
    let cur = invoice.currency.as_str();
    let total_row = |pen: &mut Pen<'_, '_>, y: &mut f32, label: &str, value: &str, bold| {
        pen.text(COL_MINUTES, *y, label, BODY, bold, Align::Right);
        pen.text(COL_AMOUNT - 4.0, *y, value, BODY, bold, Align::Right);
        *y += ROW;
    };
    pen.rule(y - 8.0, 120);
    y += 8.0;
    let usage = money(invoice.usage_amount, cur, lang);
    total_row(pen, &mut y, w.usage, &usage, false);
    let fee = money(invoice.plan_fee, cur, lang);
    total_row(pen, &mut y, w.plan_fee, &fee, false);
    let subtotal = money(invoice.usage_amount + invoice.plan_fee, cur, lang);
    total_row(pen, &mut y, w.subtotal, &subtotal, false);
    for t in &invoice.taxes {
        let label = format!("{} ({})", t.name, percent(t.rate, lang));
        total_row(pen, &mut y, &label, &money(t.amount, cur, lang), false);
    }
    pen.rule(y - 9.0, 120);
    y += 4.0;
    total_row(pen, &mut y, w.total, &money(invoice.total, cur, lang), true);
    y += 16.0;
    pen.text(
        MARGIN,
        y,
        &format!("{} {}.", w.currency_note, invoice.currency),
        8.0,
        false,
        Align::Left,
    );
}

/// The invoice number and page number at the foot of the page.
fn page_footer(pen: &mut Pen<'_, '_>, invoice: &Invoice, page_number: u32) {
    pen.text(
        COL_AMOUNT,
        PAGE_H - MARGIN / 2.0,
        &format!("{} · {page_number}", invoice.number),
        7.5,
        false,
        Align::Right,
    );
}

fn pdf_date(t: &chrono::DateTime<chrono::Utc>) -> PdfDateTime {
    // PDF dates carry no year past 9999; a YearMonth never goes there.
    let year = u16::try_from(t.year()).unwrap_or(9999);
    let narrow = |v: u32| u8::try_from(v).unwrap_or(0);
    PdfDateTime::new(year)
        .month(narrow(t.month()))
        .day(narrow(t.day()))
        .hour(narrow(t.hour()))
        .minute(narrow(t.minute()))
        .second(narrow(t.second()))
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};
    use rust_decimal::dec;
    use teleconf_domain::{AccountId, ConferenceId, InvoiceLine, Language, TaxLine};

    fn invoice(language: Language, lines: usize) -> Invoice {
        let account = AccountId::new();
        let month = "2026-11".parse().unwrap();
        Invoice {
            number: Invoice::number_for(account, month),
            account_id: account,
            account_name: "Société Générale d'Électricité du Québec".into(),
            language,
            time_zone: chrono_tz::America::Toronto,
            month,
            currency: "USD".into(),
            lines: (0..lines)
                .map(|i| InvoiceLine {
                    conference_id: Some(ConferenceId::new()),
                    conference_number: Some(format!("{}", 7_000_000 + i).parse().unwrap()),
                    description: format!("Réunion hebdomadaire de l'équipe numéro {i} à Montréal, très longue description"),
                    legs: 12,
                    billable_seconds: 3_660,
                    amount: dec!(5.49),
                    adjusted_month: None,
                    rate_per_minute: Some(dec!(0.09)),
                })
                .collect(),
            usage_amount: dec!(5.49) * rust_decimal::Decimal::from(lines),
            plan_fee: dec!(10),
            taxes: vec![
                TaxLine {
                    name: "TPS/GST".into(),
                    rate: dec!(0.05),
                    amount: dec!(1.27),
                },
                TaxLine {
                    name: "TVQ/QST".into(),
                    rate: dec!(0.09975),
                    amount: dec!(2.54),
                },
            ],
            total: dec!(1234.56),
            issued_at: Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap(),
            due_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        }
    }

    #[test]
    fn the_same_invoice_renders_to_the_same_bytes() {
        let inv = invoice(Language::Fr, 3);
        let a = render(&inv, &Branding::default()).unwrap();
        let b = render(&inv, &Branding::default()).unwrap();
        assert!(a.starts_with(b"%PDF-"));
        assert_eq!(a, b);
    }

    #[test]
    fn a_long_invoice_flows_over_several_pages() {
        let inv = invoice(Language::En, 120);
        let pdf = render(&inv, &Branding::default()).unwrap();
        let pages = pdf
            .windows(b"/Type /Page\n".len())
            .filter(|w| *w == b"/Type /Page\n" || w.starts_with(b"/Type /Page "))
            .count();
        assert!(pages >= 3 || pdf.len() > 20_000, "{pages} pages");
    }

    #[test]
    fn text_that_is_too_wide_is_cut_with_an_ellipsis() {
        let faces = faces().unwrap();
        let long = "Réunion ".repeat(40);
        let cut = fit(&faces.regular, &long, BODY, 200.0);
        assert!(cut.ends_with('…'));
        assert!(faces.regular.width(&cut, BODY) <= 200.0);
        assert_eq!(fit(&faces.regular, "Court", BODY, 200.0), "Court");
    }
}
