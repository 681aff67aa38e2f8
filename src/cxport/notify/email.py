"""E-mail over SMTP: the subject names the export and its range; the body carries the
download link, never the file."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy.orm import Session

from cxport.control.db import Delivery


@dataclass(frozen=True)
class SmtpNotifier:
    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 30.0

    def __call__(self, s: Session, delivery: Delivery) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = delivery.target
        msg["Subject"] = delivery.payload["subject"]
        msg.set_content(delivery.payload["body"])
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(msg)
