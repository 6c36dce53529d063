"""What each action is: search, click, order or pay, with its keyword or products.

Shapes: each action is exactly one kind, independently of its page, with probabilities
`KIND_WEIGHTS` (a quarter searches, half clicks, then orders and fewer payments). Keywords and
products are Zipf-popular (exponents `KEYWORD_EXPONENT`, `PRODUCT_EXPONENT`; product ranks are
shuffled from the seed, so the favourite is not product 0); categories inherit their products'
popularity through the fixed mapping of `catalog`. A click touches one product, an order or a
payment 1..3 distinct products (`ITEM_COUNT_WEIGHTS`).

Skew (`--skew-kind category|product`): a share `--skew-share` of the click, order and pay actions
is "hot" and takes its first product from the hot category (or is the hot product); all other
products are drawn from the rest of the catalogue, so exactly the hot actions touch the hot key
and its share is `--skew-share` up to sampling noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecom_analytics.generator import catalog
from ecom_analytics.generator.frame import CLICK, MAX_ITEMS, ORDER, PAY, SEARCH
from ecom_analytics.generator.sampling import draw, shuffled_zipf, zipf_weights

KIND_WEIGHTS = np.array([0.25, 0.50, 0.15, 0.10])  # SEARCH, CLICK, ORDER, PAY
ITEM_COUNT_WEIGHTS = np.array([0.6, 0.3, 0.1])  # 1, 2, 3 products per order or payment
PRODUCT_EXPONENT = 1.0
KEYWORD_EXPONENT = 0.8


@dataclass(frozen=True)
class ActionContent:
    """Kind, keyword and products of each action (columns of `frame.ActionFrame`)."""

    kind: np.ndarray
    keyword: np.ndarray
    n_items: np.ndarray
    items: np.ndarray


@dataclass(frozen=True)
class ActionModel:
    """Popularity of products and keywords, and the hot products of a category/product skew."""

    product_weights: np.ndarray
    hot_products: np.ndarray
    hot_share: float

    @classmethod
    def create(
        cls, rng: np.random.Generator, skew_kind: str, hot_key: int | None, skew_share: float
    ) -> ActionModel:
        """The model of a run; `hot_key` is a category or product id for those skew kinds."""
        if skew_kind == "category" and hot_key is not None:
            hot = catalog.CATEGORY_PRODUCTS[hot_key]
        elif skew_kind == "product" and hot_key is not None:
            hot = np.array([hot_key])
        else:
            hot = np.array([], dtype=np.int64)
        return cls(
            product_weights=shuffled_zipf(rng, catalog.N_PRODUCTS, PRODUCT_EXPONENT),
            hot_products=hot,
            hot_share=skew_share if len(hot) else 0.0,
        )

    def draw(self, rng: np.random.Generator, count: int) -> ActionContent:
        """Kinds, keywords and products of `count` actions."""
        kind = draw(rng, KIND_WEIGHTS, count).astype(np.int8)
        keyword = np.where(
            kind == SEARCH,
            draw(rng, zipf_weights(len(catalog.KEYWORDS), KEYWORD_EXPONENT), count),
            -1,
        ).astype(np.int8)
        n_items = np.where(kind == SEARCH, 0, 1 + draw(rng, ITEM_COUNT_WEIGHTS, count))
        n_items = np.where(kind == CLICK, 1, n_items).astype(np.int8)
        items = np.full((count, MAX_ITEMS), -1, dtype=np.int8)
        touching = np.flatnonzero(np.isin(kind, (CLICK, ORDER, PAY)))
        items[touching] = self._draw_items(rng, n_items[touching])
        return ActionContent(kind=kind, keyword=keyword, n_items=n_items, items=items)

    def _draw_items(self, rng: np.random.Generator, n_items: np.ndarray) -> np.ndarray:
        """Distinct products per action, -1 padded; the first is hot for a `hot_share` of them."""
        count = len(n_items)
        rest = self.product_weights.copy()
        rest[self.hot_products] = 0.0
        items = np.full((count, MAX_ITEMS), -1, dtype=np.int64)
        items[:, 0] = draw(rng, rest, count)
        if len(self.hot_products):
            hot = np.flatnonzero(rng.random(count) < self.hot_share)
            within = self.product_weights[self.hot_products]
            items[hot, 0] = self.hot_products[draw(rng, within, len(hot))]
        for slot in range(1, MAX_ITEMS):
            needed = n_items > slot
            column = draw(rng, rest, count)
            clash = needed & (column[:, None] == items[:, :slot]).any(axis=1)
            while clash.any():
                column[clash] = draw(rng, rest, int(clash.sum()))
                clash = needed & (column[:, None] == items[:, :slot]).any(axis=1)
            items[:, slot] = np.where(needed, column, -1)
        return items.astype(np.int8)
