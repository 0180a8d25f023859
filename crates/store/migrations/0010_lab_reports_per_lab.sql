-- Report ids are unique per lab, not across labs: two labs may both number their
-- reports from 1. The same id twice from one lab is the same report.
CREATE TABLE lab_reports_per_lab (
    report_id TEXT NOT NULL,
    lab TEXT NOT NULL,
    barcode TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (lab, report_id)
);
INSERT INTO lab_reports_per_lab (report_id, lab, barcode, body, received_at)
    SELECT report_id, lab, barcode, body, received_at FROM lab_reports;
DROP TABLE lab_reports;
ALTER TABLE lab_reports_per_lab RENAME TO lab_reports;
