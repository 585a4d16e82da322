"""Looking at fetched content: analysis, hash banks, the evidence store, screenshots."""
