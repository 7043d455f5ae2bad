"""Cross-area orchestration: changes that span several areas, each in one transaction and one recorded event.

Flows sit above the areas' services (they import them; no area imports a flow) and below the views and the API.
"""
