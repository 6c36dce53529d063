"""The `user_info` dataset and the per-user traits the sessions draw on.

Shapes: sex is an even split; names are pinyin (family name first, given names by sex) and the
username is the lower-cased name plus the user id, so it is unique. Ages 10..65 follow a normal
curve around 31 (sd 11) clipped to that range; everyone under 18 is a `Student`, 70% of those aged
18..22 too, other adults get a weighted profession. Home cities follow `CITY_WEIGHTS`. Each user
also gets a log-normal activity weight (sigma 1): a few users run many sessions, most run few.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ecom_analytics.generator import catalog
from ecom_analytics.generator.sampling import draw, zipf_weights
from ecom_analytics.generator.tables import USER_SCHEMA

MIN_AGE, MAX_AGE = 10, 65
STUDENT = catalog.PROFESSIONS.index("Student")


@dataclass(frozen=True)
class Users:
    """`user_info` as an Arrow table, plus the traits sessions need (indexed by user id)."""

    table: pa.Table
    home_city: np.ndarray
    activity: np.ndarray


def generate_users(rng: np.random.Generator, count: int) -> Users:
    """`count` users with ids 0..count-1."""
    user_id = np.arange(count, dtype=np.int64)
    female = rng.random(count) < 0.5
    family = np.array(catalog.FAMILY_NAMES)[
        draw(rng, zipf_weights(len(catalog.FAMILY_NAMES), 0.7), count)
    ]
    male_given = np.array(catalog.MALE_GIVEN_NAMES)[
        rng.integers(0, len(catalog.MALE_GIVEN_NAMES), count)
    ]
    female_given = np.array(catalog.FEMALE_GIVEN_NAMES)[
        rng.integers(0, len(catalog.FEMALE_GIVEN_NAMES), count)
    ]
    given = np.where(female, female_given, male_given)
    age = np.clip(np.rint(rng.normal(31, 11, count)), MIN_AGE, MAX_AGE).astype(np.int32)
    student = (age < 18) | ((age <= 22) & (rng.random(count) < 0.7))
    profession = np.where(student, STUDENT, draw(rng, catalog.PROFESSION_WEIGHTS, count))
    home_city = draw(rng, catalog.CITY_WEIGHTS, count)
    activity = rng.lognormal(0.0, 1.0, count)

    name = np.strings.add(np.strings.add(family, " "), given)
    username = np.strings.add(np.strings.lower(np.strings.add(family, given)), user_id.astype(str))
    table = pa.table(
        {
            "user_id": user_id,
            "username": username,
            "name": name,
            "age": age,
            "professional": np.array(catalog.PROFESSIONS)[profession],
            "city": np.array(catalog.CITY_NAMES)[home_city],
            "sex": np.where(female, "female", "male"),
        },
        schema=USER_SCHEMA,
    )
    return Users(table=table, home_city=home_city, activity=activity)
