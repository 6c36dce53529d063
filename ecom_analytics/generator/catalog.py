"""Fixed reference tables the generated data refers to.

Cities and products mirror `seeds/city_info.csv` and `seeds/product_info.csv` (the unit tests check
that they agree). Categories have no seed of their own: the 100 products fall into 50 categories by
product type, two adjective lines per category::

    category_id = (product_id % 10) * 5 + product_id // 20

so category 0 holds products 0 and 10 (Classic and Smart Headphones), category 1 holds 20 and 30
(Organic and Wireless Headphones), ..., category 5 holds 1 and 11 (Classic and Smart Tea Set), and
category 49 holds 89 and 99. A product's category never changes.
"""

from __future__ import annotations

import numpy as np

CITY_NAMES: tuple[str, ...] = (
    "Beijing",
    "Shanghai",
    "Nanjing",
    "Guangzhou",
    "Sanya",
    "Wuhan",
    "Changsha",
    "Xi'an",
    "Chengdu",
    "Harbin",
)
"""City names by `city_id` 0..9, as in `seeds/city_info.csv`."""

CITY_WEIGHTS = np.array([9.0, 10.0, 4.0, 8.0, 1.0, 5.0, 3.5, 4.0, 6.0, 3.0])
"""Relative share of users living in each city (big cities weigh more)."""

N_PRODUCTS = 100
N_CATEGORIES = 50

PRODUCT_CATEGORY = (np.arange(N_PRODUCTS) % 10) * 5 + np.arange(N_PRODUCTS) // 20
"""`PRODUCT_CATEGORY[product_id]` is the product's category id (see the module docstring)."""

CATEGORY_PRODUCTS = np.argsort(PRODUCT_CATEGORY, kind="stable").reshape(N_CATEGORIES, -1)
"""`CATEGORY_PRODUCTS[category_id]`: the (two) product ids of a category, ascending."""

KEYWORDS: tuple[str, ...] = (
    "wireless earbuds",
    "running shoes",
    "coffee maker",
    "yoga mat",
    "backpack",
    "desk lamp",
    "phone case",
    "tea set",
    "mechanical keyboard",
    "water bottle",
    "winter jacket",
    "smart watch",
    "bluetooth speaker",
    "laptop stand",
    "hiking boots",
    "office chair",
    "gift ideas",
    "kids toys",
    "green tea",
    "hotpot",
)
"""Search keywords, most popular first."""

PROFESSIONS: tuple[str, ...] = (
    "Student",
    "Engineer",
    "Teacher",
    "Doctor",
    "Nurse",
    "Accountant",
    "Designer",
    "Salesperson",
    "Civil Servant",
    "Freelancer",
)
PROFESSION_WEIGHTS = np.array([0.0, 18.0, 10.0, 6.0, 7.0, 9.0, 8.0, 14.0, 9.0, 10.0])
"""Weights of the professions of adults; `Student` is assigned by age (see `users`)."""

FAMILY_NAMES: tuple[str, ...] = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
    "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo",
)  # fmt: skip
MALE_GIVEN_NAMES: tuple[str, ...] = (
    "Wei", "Qiang", "Lei", "Jun", "Yong", "Jie", "Tao", "Ming", "Chao", "Hao",
    "Peng", "Bo", "Hui", "Gang", "Xin",
)  # fmt: skip
FEMALE_GIVEN_NAMES: tuple[str, ...] = (
    "Fang", "Na", "Min", "Jing", "Li", "Yan", "Juan", "Xia", "Ting", "Ying",
    "Hong", "Lan", "Mei", "Yun", "Qian",
)  # fmt: skip

AD_PROVINCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Jiangsu", ("Nanjing", "Suzhou", "Wuxi")),
    ("Zhejiang", ("Hangzhou", "Ningbo", "Wenzhou")),
    ("Guangdong", ("Guangzhou", "Shenzhen", "Dongguan")),
    ("Hubei", ("Wuhan", "Yichang")),
    ("Hunan", ("Changsha", "Zhuzhou")),
    ("Sichuan", ("Chengdu", "Mianyang", "Leshan")),
    ("Shaanxi", ("Xian", "Baoji")),
    ("Heilongjiang", ("Harbin", "Daqing")),
)
"""Provinces of the ad-click log and their cities: single pinyin tokens, no spaces."""
AD_PROVINCE_WEIGHTS = np.array([8.0, 7.0, 10.0, 5.0, 4.0, 6.0, 3.0, 3.0])
