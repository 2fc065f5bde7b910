UPDATE items SET price_band = NULL;
