//! Initial passwords for services that require one at creation (Microsoft Graph,
//! Google Directory). Each is random, sent once over TLS and never stored or logged;
//! the services are told to make the person change it at first sign-in.

use rand::seq::SliceRandom;
use rand::Rng;

/// Sixteen characters with upper and lower case letters, digits and symbols: Entra's
/// password rules need three of the four kinds.
pub(crate) fn initial_password() -> String {
    let mut rng = rand::thread_rng();
    let kinds: [&[u8]; 4] = [
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"abcdefghijkmnopqrstuvwxyz",
        b"23456789",
        b"!#%*+-=?@^_",
    ];
    let mut password: Vec<u8> = kinds
        .iter()
        .flat_map(|kind| {
            (0..4)
                .map(|_| kind[rng.gen_range(0..kind.len())])
                .collect::<Vec<_>>()
        })
        .collect();
    password.shuffle(&mut rng);
    password.into_iter().map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_has_every_kind_of_character_and_is_new_each_time() {
        let password = initial_password();
        assert_eq!(password.len(), 16);
        assert!(password.chars().any(|c| c.is_ascii_uppercase()));
        assert!(password.chars().any(|c| c.is_ascii_lowercase()));
        assert!(password.chars().any(|c| c.is_ascii_digit()));
        assert!(password.chars().any(|c| !c.is_ascii_alphanumeric()));
        assert_ne!(password, initial_password());
    }
}
