-- description: Upper-case every ticker symbol (data backfill)
UPDATE portfolio_holdings SET symbol = UPPER(symbol);
UPDATE portfolio_transactions SET symbol = UPPER(symbol);
