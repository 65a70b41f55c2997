//! A training setting in a sweep file: one value, or a list of values that makes the setting
//! a grid axis. Deserialized by hand rather than as an untagged enum, because serde's
//! untagged enums say only "data did not match any variant of untagged enum Axis": a user
//! who wrote `epochs = "ten"` must read what the setting takes and what it found instead
//! ("expected a whole number or a list of whole numbers, found string \"ten\"").

use std::fmt;
use std::marker::PhantomData;

use serde::de::{
    self, Deserialize, Deserializer, IntoDeserializer, SeqAccess, Unexpected, Visitor,
};

/// One value or a list of values: a list is a grid axis.
#[derive(Clone, Debug, PartialEq)]
pub enum Axis<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Clone> Axis<T> {
    pub fn values(&self) -> Vec<T> {
        match self {
            Axis::One(v) => vec![v.clone()],
            Axis::Many(v) => v.clone(),
        }
    }
}

/// What a setting's values are, in a user's words, for error messages.
pub trait SettingValue {
    /// One value: "a whole number".
    const ONE: &'static str;
    /// Several, after "a list of": "whole numbers".
    const MANY: &'static str;
}

impl SettingValue for usize {
    const ONE: &'static str = "a whole number";
    const MANY: &'static str = "whole numbers";
}

impl SettingValue for f64 {
    const ONE: &'static str = "a number";
    const MANY: &'static str = "numbers";
}

impl SettingValue for bool {
    const ONE: &'static str = "true or false";
    const MANY: &'static str = "true/false values";
}

impl SettingValue for String {
    const ONE: &'static str = "a string";
    const MANY: &'static str = "strings";
}

/// A learning-rate decay period: a number of training images, or "epoch".
#[derive(Clone, Debug, PartialEq)]
pub enum DecayEvery {
    Images(u64),
    Named(String),
}

impl SettingValue for DecayEvery {
    const ONE: &'static str = "a number of images or \"epoch\"";
    const MANY: &'static str = "numbers of images or \"epoch\"";
}

impl<'de> Deserialize<'de> for DecayEvery {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DecayVisitor;
        impl Visitor<'_> for DecayVisitor {
            type Value = DecayEvery;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(DecayEvery::ONE)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DecayEvery, E> {
                Ok(DecayEvery::Images(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DecayEvery, E> {
                u64::try_from(v)
                    .map(DecayEvery::Images)
                    .map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DecayEvery, E> {
                Ok(DecayEvery::Named(v.to_owned()))
            }
        }
        deserializer.deserialize_any(DecayVisitor)
    }
}

impl<'de, T: Deserialize<'de> + SettingValue> Deserialize<'de> for Axis<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor::<T, true>(PhantomData))
    }
}

/// One element of a list: the same scalars, its own "expected".
struct Element<T>(T);

impl<'de, T: Deserialize<'de> + SettingValue> Deserialize<'de> for Element<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match deserializer.deserialize_any(ValueVisitor::<T, false>(PhantomData))? {
            Axis::One(value) => Ok(Element(value)),
            Axis::Many(_) => unreachable!("an element's visitor takes no list"),
        }
    }
}

/// Takes a scalar as one `T`, and (where `LIST`) a list of `T`s.
struct ValueVisitor<T, const LIST: bool>(PhantomData<T>);

impl<'de, T: Deserialize<'de> + SettingValue, const LIST: bool> ValueVisitor<T, LIST> {
    /// `T` from a scalar, or one error that says what the setting takes and what was found.
    fn one<E: de::Error>(
        self,
        value: impl IntoDeserializer<'de, E>,
        found: Unexpected,
    ) -> Result<Axis<T>, E> {
        T::deserialize(value.into_deserializer())
            .map(Axis::One)
            .map_err(|_: E| E::custom(format!("expected {}, found {found}", Expecting(&self))))
    }
}

/// The visitor's "expected" as a Display, for messages built by hand.
struct Expecting<'a, V>(&'a V);

impl<'de, V: Visitor<'de>> fmt::Display for Expecting<'_, V> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)
    }
}

impl<'de, T: Deserialize<'de> + SettingValue, const LIST: bool> Visitor<'de>
    for ValueVisitor<T, LIST>
{
    type Value = Axis<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if LIST {
            write!(f, "{} or a list of {}", T::ONE, T::MANY)
        } else {
            f.write_str(T::ONE)
        }
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Axis<T>, E> {
        self.one(v, Unexpected::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Axis<T>, E> {
        self.one(v, Unexpected::Signed(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Axis<T>, E> {
        self.one(v, Unexpected::Unsigned(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Axis<T>, E> {
        self.one(v, Unexpected::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Axis<T>, E> {
        self.one(v.to_owned(), Unexpected::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Axis<T>, A::Error> {
        if !LIST {
            return Err(de::Error::invalid_type(Unexpected::Seq, &self));
        }
        let mut values = Vec::new();
        while let Some(Element(value)) = seq.next_element::<Element<T>>()? {
            values.push(value);
        }
        Ok(Axis::Many(values))
    }
}
