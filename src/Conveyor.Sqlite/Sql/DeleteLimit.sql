-- DeleteLimit: removes one limit definition, whatever its source.
-- Parameters: @kind, @name. Result: rows changed (1 if there was one).
DELETE FROM limit_definitions WHERE kind = @kind AND name = @name;
