-- Written for the mysql client, which reads DELIMITER itself.
DELIMITER //
CREATE PROCEDURE bump(IN k INT)
BEGIN
    UPDATE totals SET n = n + 1 WHERE id = k;
END //
DELIMITER ;
