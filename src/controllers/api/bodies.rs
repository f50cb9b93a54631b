//! What the frontends send, field by field, for the OpenAPI description.
//! These are schemas only: the handlers read their bodies with
//! [`super::drf::Input`] (or by hand, for backtuki's own shapes) so that every
//! problem is answered with DRF's Spanish message under its field name.

#![allow(dead_code, non_snake_case)]

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// `{email, password}`.
#[derive(Serialize, ToSchema)]
pub struct EmailPassword {
    #[schema(format = Email)]
    pub email: String,
    pub password: String,
}

/// `{email}`.
#[derive(Serialize, ToSchema)]
pub struct EmailOnly {
    #[schema(format = Email)]
    pub email: String,
}

/// `{token}`: an access or refresh token.
#[derive(Serialize, ToSchema)]
pub struct TokenOnly {
    pub token: String,
}

/// `{refresh?}`: the refresh token to end with the session.
#[derive(Serialize, ToSchema)]
pub struct LogoutBody {
    pub refresh: Option<String>,
}

/// The profile's editable fields; `password` only sets a first password.
#[derive(Serialize, ToSchema)]
pub struct ProfileUpdate {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone_number: Option<String>,
    pub password: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
    /// When sent, must equal `new_password`.
    pub new_password_confirm: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ResetWithCode {
    #[schema(format = Email)]
    pub email: String,
    /// The six digits mailed by `password-reset/`.
    pub code: String,
    pub new_password: String,
    pub new_password_confirm: Option<String>,
}

/// A paid order's access token (either key).
#[derive(Serialize, ToSchema)]
pub struct MagicLogin {
    pub order_access_token: Option<String>,
    pub access_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct GuestBody {
    #[schema(format = Email)]
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub order_id: Option<Uuid>,
}

/// What a one-time code is for.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CodePurpose {
    EventCreation,
    Login,
    TicketAccess,
    PasswordReset,
    EmailVerification,
    AccountCreation,
}

#[derive(Serialize, ToSchema)]
pub struct CodeRequest {
    #[schema(format = Email)]
    pub email: String,
    pub purpose: CodePurpose,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct CodeFor {
    #[schema(format = Email)]
    pub email: String,
    pub purpose: CodePurpose,
}

#[derive(Serialize, ToSchema)]
pub struct CodeCheck {
    #[schema(format = Email)]
    pub email: String,
    /// Six digits.
    pub code: String,
    pub purpose: CodePurpose,
}

#[derive(Serialize, ToSchema)]
pub struct LoginCodeRequest {
    #[schema(format = Email)]
    pub email: String,
    pub remember_me: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct TicketAccessRequest {
    #[schema(format = Email)]
    pub email: String,
    pub order_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct CodeLogin {
    #[schema(format = Email)]
    pub email: String,
    /// Six digits.
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReservationsByEmail {
    #[schema(format = Email)]
    pub email: String,
    /// The six digits mailed by `otp/ticket-access/`.
    pub otp_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct TrackView {
    pub event_id: Uuid,
}

#[derive(Serialize, ToSchema)]
pub struct QrCheck {
    pub ticket_number: String,
    pub security_hash: String,
}

/// One tier wanted, as backtuki's frontend reserves it.
#[derive(Serialize, ToSchema)]
pub struct TicketWanted {
    pub tierId: Uuid,
    #[schema(minimum = 0)]
    pub quantity: i32,
    /// Pay-what-you-want price: refused (no such tiers here).
    pub customPrice: Option<f64>,
}

/// backtuki's reserve: every tier's wanted quantity (0 releases it).
#[derive(Serialize, ToSchema)]
pub struct ReserveTickets {
    pub tickets: Vec<TicketWanted>,
    /// The reservation to change instead of a new one.
    pub reservationId: Option<Uuid>,
    /// Asked hold, bounded by the server's own.
    pub holdMinutes: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct TierWanted {
    pub tier_id: Uuid,
    #[schema(minimum = 1)]
    pub quantity: i32,
}

/// This server's reserve.
#[derive(Serialize, ToSchema)]
pub struct ReserveTiers {
    pub tiers: Vec<TierWanted>,
}

#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum ReserveBody {
    Backtuki(ReserveTickets),
    Tiers(ReserveTiers),
}

/// The buyer, as backtuki's frontend sends it.
#[derive(Serialize, ToSchema)]
pub struct CustomerInfo {
    /// Or `firstName` and `lastName`.
    pub name: Option<String>,
    pub firstName: Option<String>,
    pub lastName: Option<String>,
    #[schema(format = Email)]
    pub email: String,
    pub phone: Option<String>,
}

/// One ticket's holder.
#[derive(Serialize, ToSchema)]
pub struct Holder {
    pub name: String,
    pub lastName: Option<String>,
    pub email: Option<String>,
}

/// The holders of one tier's tickets, in order.
#[derive(Serialize, ToSchema)]
pub struct TierHolders {
    pub tierId: Uuid,
    pub holders: Vec<Holder>,
}

/// backtuki's book.
#[derive(Serialize, ToSchema)]
pub struct BookTickets {
    pub customerInfo: CustomerInfo,
    pub ticketHolders: Option<Vec<TierHolders>>,
    /// Any non-empty code is refused: no coupons here.
    pub couponCode: Option<String>,
    /// The reservation to book; without it, `tickets` are held first.
    pub reservationId: Option<Uuid>,
    pub tickets: Option<Vec<TicketWanted>>,
}

#[derive(Serialize, ToSchema)]
pub struct Customer {
    pub name: String,
    #[schema(format = Email)]
    pub email: String,
    pub phone: Option<String>,
}

/// This server's book.
#[derive(Serialize, ToSchema)]
pub struct BookReservation {
    pub reservation_id: Uuid,
    pub customer: Customer,
}

#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum BookBody {
    Backtuki(BookTickets),
    Reservation(BookReservation),
}

/// backtuki's `create_payment`: the order's id and a method of
/// `payment-methods/` (or its provider and kind).
#[derive(Serialize, ToSchema)]
pub struct PayOrder {
    pub order_id: Uuid,
    pub payment_method_id: Option<Uuid>,
    /// `transbank_webpay_plus`.
    pub provider_type: Option<String>,
    /// `credit_card` or `debit_card`.
    pub method_type: Option<String>,
}

/// This server's `create_payment`.
#[derive(Serialize, ToSchema)]
pub struct PayByNumber {
    pub order_number: String,
    /// The order's access token (not needed by its signed-in owner).
    pub token: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum PayBody {
    Backtuki(PayOrder),
    ByNumber(PayByNumber),
}

/// What Transbank hands back to the buyer's browser: `token_ws` after a
/// payment, the `TBK_*` fields after an abort or a timeout.
#[derive(Serialize, ToSchema)]
pub struct WebpayReturn {
    pub token_ws: Option<String>,
    pub TBK_TOKEN: Option<String>,
    pub TBK_ORDEN_COMPRA: Option<String>,
    pub TBK_ID_SESION: Option<String>,
}

/// The organizer profile's writable fields (`PUT` needs `name` and
/// `contact_email`); `logo: null` removes the logo (a new one goes to
/// `upload-logo/`).
#[derive(Serialize, ToSchema)]
pub struct OrganizerUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub website: Option<String>,
    #[schema(format = Email)]
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    /// `""`, `small`, `medium` or `large`.
    pub organization_size: Option<String>,
    pub representative_name: Option<String>,
    pub representative_email: Option<String>,
    pub representative_phone: Option<String>,
    #[schema(value_type = Option<Object>, nullable)]
    pub logo: Option<()>,
}

/// The organizer's first set-up (every key optional).
#[derive(Serialize, ToSchema)]
pub struct OrganizerSetup {
    /// Not starting with "Organizador ".
    pub organization_name: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    /// Only for an account without a password.
    pub password: Option<String>,
    pub password_confirm: Option<String>,
}

/// A venue: a place's name and address, or a meeting's URL.
#[derive(Serialize, ToSchema)]
pub struct VenueWrite {
    pub name: String,
    pub address: String,
}

/// Visitor notes (backtuki's camelCase object).
#[derive(Serialize, ToSchema)]
pub struct AdditionalInfo {
    pub ageRestriction: Option<String>,
    pub dresscode: Option<String>,
    /// Text, or a list joined with commas.
    #[schema(value_type = Option<Object>)]
    pub accessibility: Option<serde_json::Value>,
    pub parking: Option<String>,
}

/// An event's writable fields (create: `title`, `start_date` and `end_date`
/// required; `shortDescription`, `startDate`, `endDate` are read too).
#[derive(Serialize, ToSchema)]
pub struct EventWrite {
    pub title: Option<String>,
    pub description: Option<String>,
    pub short_description: Option<String>,
    /// conference, concert, sports, theater, workshop, festival, party, rifa or other.
    pub r#type: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub location: Option<VenueWrite>,
    pub tags: Option<Vec<String>>,
    /// Updates only: draft, draft_complete, cancelled or published.
    pub status: Option<String>,
    pub additionalInfo: Option<AdditionalInfo>,
}

/// A tier's writable fields (create: `name` and `price` required; `event`
/// on `ticket-tiers/`). backtuki's camelCase keys and `price: {basePrice}`
/// are read too.
#[derive(Serialize, ToSchema)]
pub struct TierWrite {
    pub event: Option<Uuid>,
    pub name: Option<String>,
    /// Free text (`General`, `VIP`…).
    pub r#type: Option<String>,
    pub description: Option<String>,
    /// Whole pesos.
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub price: Option<i64>,
    /// `null`: unlimited; never below what is sold and held.
    pub capacity: Option<i32>,
    pub is_public: Option<bool>,
    pub is_highlighted: Option<bool>,
    pub min_per_order: Option<i32>,
    pub max_per_order: Option<i32>,
    /// Comma-separated.
    pub benefits: Option<String>,
    pub order: Option<i32>,
    pub sale_start: Option<String>,
    pub sale_end: Option<String>,
    /// Needed to change the price of a tier with sales.
    pub confirm_price_change: Option<bool>,
}

/// One step of the organizer sign-up wizard.
#[derive(Serialize, ToSchema)]
pub struct OnboardingStep {
    pub onboarding_id: uuid::Uuid,
    /// 1: `selected_types`; 2: `organization_name`, `organization_slug`,
    /// `organization_size`; 3: `contact_name`, `contact_email`, `contact_phone`.
    #[schema(minimum = 1, maximum = 3)]
    pub step: i32,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// The end of the organizer sign-up wizard.
#[derive(Serialize, ToSchema)]
pub struct OnboardingComplete {
    pub onboarding_id: uuid::Uuid,
    /// The new account's password (none: it signs in by emailed codes).
    #[schema(nullable = false)]
    pub password: Option<String>,
}

/// An invitation to an organizer's team.
#[derive(Serialize, ToSchema)]
#[allow(clippy::struct_excessive_bools)]
pub struct MemberInvite {
    #[schema(format = Email)]
    pub email: String,
    #[schema(max_length = 150)]
    pub first_name: Option<String>,
    #[schema(max_length = 150)]
    pub last_name: Option<String>,
    /// Default `false`.
    pub is_admin: Option<bool>,
    /// Default `true`.
    pub can_manage_events: Option<bool>,
    /// Default `true`.
    pub can_view_reports: Option<bool>,
    /// Default `false`.
    pub can_manage_settings: Option<bool>,
    /// Default `false`: a door-only member when the others are false.
    pub can_validate_tickets: Option<bool>,
}

/// A team member's flags; those not sent stay as they are.
#[derive(Serialize, ToSchema)]
#[allow(clippy::struct_excessive_bools)]
pub struct MemberFlags {
    pub is_admin: Option<bool>,
    pub can_manage_events: Option<bool>,
    pub can_view_reports: Option<bool>,
    pub can_manage_settings: Option<bool>,
    pub can_validate_tickets: Option<bool>,
}

/// A ticket category's fields.
#[derive(Serialize, ToSchema)]
pub struct CategoryWrite {
    /// The event (on `ticket-categories/` only).
    pub event: Option<uuid::Uuid>,
    #[schema(max_length = 100)]
    pub name: Option<String>,
    pub description: Option<String>,
    /// `null`: unlimited.
    #[schema(minimum = 0, maximum = 10_000_000)]
    pub capacity: Option<i32>,
    /// `active`, `hidden` or `sold_out`.
    pub status: Option<String>,
    /// `public`, `private` or `password`.
    pub visibility: Option<String>,
    #[schema(max_length = 20)]
    pub color: Option<String>,
    #[schema(minimum = 0, maximum = 10_000)]
    pub order: Option<i32>,
    #[schema(minimum = 1, maximum = 1000)]
    pub max_per_purchase: Option<i32>,
    #[schema(minimum = 1, maximum = 1000)]
    pub min_per_purchase: Option<i32>,
    /// `YYYY-MM-DD`.
    pub sale_start_date: Option<String>,
    pub sale_end_date: Option<String>,
    /// `hh:mm[:ss]`.
    pub sale_start_time: Option<String>,
    pub sale_end_time: Option<String>,
    pub access_start_date: Option<String>,
    pub access_end_date: Option<String>,
    pub access_start_time: Option<String>,
    pub access_end_time: Option<String>,
}

/// A tier's category: an id of one of its event's categories, or `null`.
#[derive(Serialize, ToSchema)]
pub struct CategoryLink {
    pub category_id: Option<uuid::Uuid>,
}

/// An event's images in their new order (the first is the cover).
#[derive(Serialize, ToSchema)]
pub struct ImageOrder {
    pub order: Vec<uuid::Uuid>,
}

/// A copy of an event.
#[derive(Serialize, ToSchema)]
pub struct CloneEvent {
    /// Default: the original's title with ` (copia)`.
    #[schema(max_length = 200, nullable = false)]
    pub title: Option<String>,
}

/// An optional reason.
#[derive(Serialize, ToSchema)]
pub struct Reason {
    #[schema(max_length = 500, nullable = false)]
    pub reason: Option<String>,
}
