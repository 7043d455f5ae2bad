"""The board pack as a record: schedules, packs prepared for the QA lead's commentary, issued once as a PDF made on
the job queue and kept unchanged with its SHA-256, sent to the board, and downloaded exactly as issued."""
