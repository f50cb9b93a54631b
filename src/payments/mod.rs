//! What a buyer pays for: seats held and booked (`checkout`), Webpay Plus
//! payments from creation to refund (`flow`), and Transbank's REST client
//! (`webpay`). The rules themselves live on the models (`crate::models`).

pub mod checkout;
pub mod credentials;
pub mod flow;
pub mod webpay;
