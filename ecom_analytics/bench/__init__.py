"""`ecom bench`: how fast the offline build and the streaming job are, and what they cost.

See docs/performance.md for the figures and how to read them.
"""
