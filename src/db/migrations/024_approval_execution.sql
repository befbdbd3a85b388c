-- An approval step inside a foreach batch waits in the batch's child workflow, not in the run: the
-- decision goes to the execution that waits (NULL: the run itself).
ALTER TABLE approvals ADD COLUMN execution_id text;
