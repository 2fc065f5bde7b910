CREATE PROCEDURE count_to(n INT)
BEGIN
    DECLARE i INT DEFAULT 0;
    counting: LOOP
        SET i = i + 1;
        IF i >= n THEN LEAVE counting; END IF;
    END LOOP counting;
    CASE i WHEN 0 THEN SELECT 'none'; ELSE SELECT i; END CASE;
END;
BEGIN NOT ATOMIC SELECT 1; END;
